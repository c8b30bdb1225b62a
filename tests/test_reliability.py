"""Fault injection: runs killed or interrupted at many moments resume to the same result;
no run is mistaken for a success; no input escapes the output folder or exhausts the machine.

Kills need a process of their own, so those runs are subprocesses (a short script around the
real ``train`` entry point, with a patch that makes it die at the chosen moment); everything
else, resumes included, runs in-process. Runs are mlp_digits with ``deterministic: true``, so
a resumed run's metrics can be compared with an uninterrupted one's exactly.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import pytest
from conftest import CONFIGS, REPO, run_cli

from keras_curriculum import cli
from keras_curriculum.training import load_config, rundir, train
from keras_curriculum.training.backup import backups

DIGITS = CONFIGS / "mlp_digits.yaml"
EPOCHS = 4
# Batches of 8 make 162 steps an epoch: long enough to be hit by a signal mid-epoch.
RUN = [
    f"training.epochs={EPOCHS}",
    "data.batch_size=8",
    "training.deterministic=true",
    "training.verbose=0",
    "training.callbacks.early_stopping=false",
    "training.callbacks.tensorboard=false",
]


def strict_json(path: Path) -> dict:
    def reject(constant: str):
        raise AssertionError(f"{path}: {constant} is not JSON")

    return json.loads(path.read_text(), parse_constant=reject)


def history_epochs(run_dir: Path) -> list[int]:
    with (run_dir / "history.csv").open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def call(entry, *args, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        entry([str(a) for a in args])
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def one_line(status: int, err: str, expected_status: int, *needles: str) -> str:
    assert status == expected_status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module", autouse=True)
def op_determinism_off_afterwards():
    yield
    from tensorflow.python.framework import config as tf_config  # no public switch-off

    tf_config.disable_op_determinism()


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> Path:
    """The uninterrupted run every resumed one must equal."""
    result = train(load_config(DIGITS, RUN), output_dir=tmp_path_factory.mktemp("reference"))
    assert history_epochs(result.run_dir) == list(range(EPOCHS))
    assert not (result.run_dir / "backup").exists()  # a completed run gives its backup up
    return result.run_dir


@pytest.fixture(scope="module")
def reference(reference_run: Path) -> dict:
    return strict_json(reference_run / "metrics.json")


def assert_resumes_to_reference(run_dir: Path, reference: dict, capsys) -> str:
    keras.backend.clear_session()
    status, out, err = call(cli.train_main, "--resume", run_dir, capsys=capsys)
    assert status == 0, err
    assert history_epochs(run_dir) == list(range(EPOCHS))  # every epoch once, in order
    metrics = strict_json(run_dir / "metrics.json")
    assert metrics["test"] == reference["test"]
    assert metrics["epochs"] == EPOCHS
    assert strict_json(run_dir / "run.json")["status"] == "completed"
    assert not (run_dir / "backup").exists()
    return out


# ---------------------------------------------------------------------------------------------
# Kills, in subprocesses

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import keras
    from keras_curriculum import cli, reports
    from keras_curriculum.training import backup

    moment, output = sys.argv[1], sys.argv[2]
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    # Ctrl-C as in a terminal: pytest-xdist's workers ignore SIGINT, and a child inherits that.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if moment == "first_epoch":  # SIGKILL half-way through the first epoch: no backup yet
        class Die(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 80:
                    die()
        fit = keras.Model.fit
        keras.Model.fit = lambda self, *a, **k: fit(self, *a, **{**k, "callbacks": [*k["callbacks"], Die()]})
    elif moment == "backup_write":  # epoch 2's backup: half its weights file written, then SIGKILL
        save, save_weights = backup.RunBackup._save, keras.Model.save_weights
        def write_half(model, path, *args, **kwargs):
            save_weights(model, path, *args, **kwargs)
            with open(path, "r+b") as handle:
                handle.truncate(os.path.getsize(path) // 2)
            die()
        def half_then_die(self, epochs, *, final):
            if epochs == 2:
                keras.Model.save_weights = write_half
            save(self, epochs, final=final)
        backup.RunBackup._save = half_then_die
    elif moment == "reports":  # after the last epoch, while the reports are written
        reports.run_reports = lambda *a, **k: die()
    elif moment == "signal":  # waits after epoch 2 (backed up, logged) for the test's signal
        import pathlib, time
        class Wait(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    pathlib.Path(output, "epoch2.done").touch()
                    time.sleep(300)
        fit = keras.Model.fit
        keras.Model.fit = lambda self, *a, **k: fit(self, *a, **{**k, "callbacks": [*k["callbacks"], Wait()]})

    cli.train_main(["--config", "configs/mlp_digits.yaml", "--output-dir", output,
                    *[arg for item in sys.argv[3:] for arg in ("--set", item)]])
    """
)


def start(moment: str, output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", KILLER, moment, str(output), *RUN],
        cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def the_run(output: Path) -> Path:
    (run_dir,) = output.glob("mlp_digits/*")
    return run_dir


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["first_epoch", "backup_write", "reports"])
def test_sigkill_at_any_moment_resumes_to_the_same_result(
    moment: str, tmp_path: Path, reference: dict, capsys
) -> None:
    process = start(moment, tmp_path)
    _, err = process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL, err[-3000:]
    run_dir = the_run(tmp_path)
    # The killed process left its status at "running"; nobody holds the lock, so it shows
    # as interrupted.
    assert strict_json(run_dir / "run.json")["status"] == "running"
    assert rundir.status(run_dir) == "interrupted"
    done = [b.epochs for b in backups(run_dir)]
    if moment == "first_epoch":
        assert done == []
    elif moment == "backup_write":
        assert done == [1]  # epoch 2's half-written copy never became a backup
        assert any(p.name.startswith(".") for p in (run_dir / "backup").iterdir())
        assert history_epochs(run_dir) == [0, 1]  # its row was written; it is trimmed on resume
    else:
        assert [(b.epochs, b.final) for b in backups(run_dir)] == [(EPOCHS, True)]
        before = (run_dir / "history.csv").read_text()

    out = assert_resumes_to_reference(run_dir, reference, capsys)
    if moment == "first_epoch":
        assert "no backup to resume from" in out
    elif moment == "backup_write":
        assert "resuming from the backup of epoch 1" in out
    else:  # straight to the reports: nothing trained again
        assert f"resuming from the final backup (training had ended) of epoch {EPOCHS}" in out
        assert (run_dir / "history.csv").read_text() == before


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_at_an_epoch_boundary_is_recorded_and_resumes(
    sig: int, status: int, tmp_path: Path, reference: dict, capsys
) -> None:
    process = start("signal", tmp_path)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if (tmp_path / "epoch2.done").exists():  # epochs 1 and 2 are logged and backed up
                break
            time.sleep(0.02)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err[-3000:]
    assert err.strip().splitlines()[-1] == ("interrupted" if sig == signal.SIGINT else "terminated")
    run_dir = the_run(tmp_path)
    record = strict_json(run_dir / "run.json")
    assert record["status"] == "interrupted"
    assert record["reason"] == ("SIGINT (Ctrl-C)" if sig == signal.SIGINT else "SIGTERM")
    assert_resumes_to_reference(run_dir, reference, capsys)


# ---------------------------------------------------------------------------------------------
# Resume checks, locks and run inspection, in-process


class InterruptAfter(keras.callbacks.Callback):
    """Ctrl-C right after epoch ``epochs`` has been backed up."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


@pytest.fixture
def interrupted(tmp_path: Path) -> Path:
    """A run interrupted in-process after 2 of its 4 epochs."""
    with pytest.raises(KeyboardInterrupt):
        train(load_config(DIGITS, RUN), output_dir=tmp_path, callbacks=[InterruptAfter(2)])
    run_dir = the_run(tmp_path)
    assert strict_json(run_dir / "run.json")["status"] == "interrupted"
    return run_dir


def test_resume_refuses_unsafe_changes_before_touching_anything(
    interrupted: Path, reference: dict, capsys
) -> None:
    files = {p: p.read_bytes() for p in interrupted.rglob("*") if p.is_file()}
    first_segment = backups(interrupted)[0].state()["train_seconds"]
    cases = [
        (["--set", "model.hidden_units=[128]"], ["--resume cannot change model.hidden_units"]),
        (["--set", "training.epochs=1"], ["training.epochs can only go up", "2 done"]),
        (["--set", "seed=3"], ["--resume cannot change seed"]),
        (["--set", "model.hidden_units=[a]"], ["--set: model.hidden_units.0: expected an integer"]),
        (["--config", DIGITS], ["--config and --resume exclude each other"]),
    ]
    for extra, needles in cases:
        status, _, err = call(cli.train_main, "--resume", interrupted, *extra, capsys=capsys)
        one_line(status, err, 2, *needles)
    assert {p: p.read_bytes() for p in interrupted.rglob("*") if p.is_file()} == files
    # What may change does: verbosity and callbacks; then the run completes as if never stopped.
    keras.backend.clear_session()
    status, out, err = call(
        cli.train_main, "--resume", interrupted, "--set", "training.verbose=2",
        "--set", "training.callbacks.model_checkpoint=false", capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    assert f"Epoch {EPOCHS}/{EPOCHS}" in out and "Epoch 2/" not in out
    metrics = strict_json(interrupted / "metrics.json")
    assert metrics["test"] == reference["test"]
    assert history_epochs(interrupted) == list(range(EPOCHS))
    # training time adds up across the two segments (the first one's is in its backup)
    assert metrics["train_seconds"] > first_segment > 0
    assert strict_json(interrupted / "run.json")["train_seconds"] == metrics["train_seconds"]


def test_more_epochs_on_resume(interrupted: Path, capsys) -> None:
    keras.backend.clear_session()
    status, _, err = call(
        cli.train_main, "--resume", interrupted, "--set", f"training.epochs={EPOCHS + 1}",
        capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    assert history_epochs(interrupted) == list(range(EPOCHS + 1))


def test_a_live_run_is_locked_and_a_stale_lock_taken_over(interrupted: Path, capsys) -> None:
    # Another process holding the run's lock the way the trainer does (fcntl.flock on .lock,
    # which names it), without the cost of importing TensorFlow.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, socket, sys, time\n"
         "lock = open(sys.argv[1], 'a+'); fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
         "lock.truncate(0); lock.write(f'pid {os.getpid()} on {socket.gethostname()}\\n')\n"
         "lock.flush(); print('locked', flush=True); time.sleep(600)",
         str(interrupted / ".lock")],
        cwd=REPO, text=True, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert rundir.status(interrupted) == "interrupted"  # recorded as such, lock or not
        rundir.mark(interrupted, status="running")
        assert rundir.status(interrupted) == "running"  # its lock is held: it is live
        status, _, err = call(cli.train_main, "--resume", interrupted, capsys=capsys)
        one_line(status, err, 2, str(interrupted), f"in use by pid {holder.pid} on ")
    finally:
        holder.kill()
        holder.wait()
    # The holder died without a word: its lock file stays, and is taken over.
    assert f"pid {holder.pid}" in (interrupted / ".lock").read_text()
    assert rundir.status(interrupted) == "interrupted"
    keras.backend.clear_session()
    status, out, err = call(cli.train_main, "--resume", interrupted, capsys=capsys)
    assert status == 0, err
    assert f"taking over from pid {holder.pid}" in out
    assert f"pid {os.getpid()}" in (interrupted / ".lock").read_text()


def test_runs_lists_status_epochs_and_test_figures(interrupted: Path, capsys) -> None:
    (interrupted.parent / "broken").mkdir()
    (interrupted.parent / "broken" / "run.json").write_text("{not json")
    status, out, err = call(cli.main, "runs", interrupted.parent.parent, capsys=capsys)
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["run", "status", "epochs", "test"]
    row = next(line for line in lines if str(interrupted) in line)
    assert row.split()[1:3] == ["interrupted", "2"]
    assert "unreadable" in next(line for line in lines if "broken" in line)
    keras.backend.clear_session()
    assert call(cli.train_main, "--resume", interrupted, capsys=capsys)[0] == 0
    out = call(cli.main, "runs", interrupted.parent.parent, capsys=capsys)[1]
    row = next(line for line in out.splitlines() if str(interrupted) in line)
    assert row.split()[1:3] == ["completed", str(EPOCHS)] and "accuracy 0." in row


# ---------------------------------------------------------------------------------------------
# A diverged run


def test_a_diverged_run_is_marked_and_exits_3(tmp_path: Path, capsys) -> None:
    status, out, err = call(
        cli.train_main, "--config", DIGITS, "--output-dir", tmp_path,
        "--set", "training.optimizer={name: sgd, learning_rate: 1.0e+30}",
        "--set", "training.verbose=0", "--set", "training.callbacks.tensorboard=false",
        capsys=capsys,
    )  # fmt: skip
    line = one_line(status, err, 3, "diverged: the loss became nan in epoch 1")
    assert "learning_rate" in line and "test accuracy" not in out
    run_dir = the_run(tmp_path)  # kept, and marked
    assert strict_json(run_dir / "run.json")["status"] == "diverged"
    metrics = strict_json(run_dir / "metrics.json")
    assert metrics["diverged_at_epoch"] == 1 and metrics["test"]["loss"] is None
    assert not (run_dir / "model.keras").exists()
    status, _, err = call(cli.train_main, "--resume", run_dir, capsys=capsys)
    one_line(status, err, 2, "diverged")


# ---------------------------------------------------------------------------------------------
# Bad input: one line, exit 2, nothing written


def bad_configs(tmp: Path) -> list[tuple[list[str], list[str]]]:
    bomb = tmp / "bomb.yaml"
    anchors = "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    bomb.write_text(f"a0: &a0 [1]\n{anchors}name: x\n")
    deep = tmp / "deep.yaml"
    deep.write_text("name: x\nmodel: " + "[" * 5000 + "]" * 5000 + "\n")
    config = ["--config", str(DIGITS)]
    return [
        (["--config", str(bomb)], [str(bomb), "YAML expands to more than 200,000 values"]),
        (["--config", str(deep)], [str(deep), "nested more than 64 levels deep"]),
        (["--config", "/dev/zero"], ["/dev/zero: file is larger than 4 MB"]),
        ([*config, "--set", "name=../../escape"], ["--set: name: expected one folder name"]),
        ([*config, "--set", "name=/tmp/elsewhere"], ["name: expected one folder name"]),
        ([*config, "--set", "name=''"], ["name: expected one folder name"]),
        ([*config, "--set", "name=.."], ["name: expected one folder name"]),
        ([*config, "--set", "training.epochs=true"], ["training.epochs: expected an integer"]),
        (
            [*config, "--set", "model.activation=frobnicate"],
            ["model.activation: ", "frobnicate"],
        ),
        ([*config, "--set", "model.hidden_units=[-5]"], ["model.hidden_units: ", "-5"]),
        ([*config, "--set", "model.dropout=1.5"], ["model.dropout: ", "1.5"]),
        ([*config, "--set", "model.kernel_initializer=nope"], ["model.kernel_initializer: "]),
    ]


def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path: Path, capsys) -> None:
    output = tmp_path / "out"
    for args, needles in bad_configs(tmp_path):
        started = time.monotonic()
        status, _, err = call(cli.train_main, *args, "--output-dir", output, capsys=capsys)
        one_line(status, err, 2, *needles)
        assert not output.exists(), args
        if "--config" in args and "/dev/zero" in args:
            assert time.monotonic() - started < 60  # reads at most 4 MB, however long the file


def test_bad_run_files_are_one_line_naming_the_file(
    interrupted: Path, tmp_path: Path, capsys
) -> None:
    (interrupted / "model.keras").write_bytes(b"PK\x03\x04 truncated")
    status, _, err = call(cli.main, "evaluate", interrupted, capsys=capsys)
    one_line(status, err, 2, f"{interrupted / 'model.keras'}: not a complete .keras archive")

    inputs = keras.Input((2,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    lambda_model.save(interrupted / "model.keras")
    status, _, err = call(cli.main, "evaluate", interrupted, capsys=capsys)
    one_line(status, err, 2, "model.keras: refused by Keras' safe mode")

    (interrupted / "run.json").write_text('{"status": "runn')
    status, _, err = call(cli.train_main, "--resume", interrupted, capsys=capsys)
    one_line(status, err, 2, f"{interrupted / 'run.json'}: not valid JSON")
    with pytest.raises(Exception, match="not valid JSON"):  # --debug: the exception itself
        cli.train_main(["--resume", str(interrupted), "--debug"])


@pytest.mark.slow
def test_evaluate_prints_no_tensorflow_log_lines(reference_run: Path, reference: dict) -> None:
    # TensorFlow's C++ code writes notes (oneDNN, CUDA probing) to descriptor 2 at any time.
    result = run_cli("keras-curriculum", "evaluate", str(reference_run))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    evaluated = json.loads(result.stdout)["test"]
    assert evaluated == pytest.approx(reference["test"], abs=1e-5)


def test_neighbours_top_must_be_positive(tmp_path: Path, capsys) -> None:
    status, _, err = call(cli.main, "neighbours", tmp_path, "king", "--top", "-5", capsys=capsys)
    one_line(status, err, 2, "--top", "at least 1, got -5")


def test_run_files_are_strict_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    rundir.write_json(path, {"loss": math.nan, "x": [math.inf, 1.0], "n": 3})
    assert strict_json(path) == {"loss": None, "x": [None, 1.0], "n": 3}
