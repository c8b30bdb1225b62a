"""The shared trainer end to end, on scikit-learn's real digits.

A full ``configs/mlp_digits.yaml`` run (the notes' 4,810-parameter network) and the run
directory it leaves; early stopping; resuming a run killed with SIGKILL; the TensorBoard
event files; mixed precision on CPU; ``mirrored`` on two logical CPU devices and
``multi_worker`` with two local worker processes (both in fresh subprocesses, since
TensorFlow's devices and collective ops are fixed when its runtime starts); determinism.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import BIN, CONFIGS, REPO

from keras_curriculum.training import load_config, train

DIGITS = CONFIGS / "mlp_digits.yaml"
QUIET = "training.verbose=0"


def digits_config(*overrides: str):
    return load_config(DIGITS, [QUIET, *overrides])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The shipped mlp_digits config, trained once for the tests of this module."""
    return train(digits_config(), output_dir=tmp_path_factory.mktemp("runs"))


def history_epochs(run_dir: Path) -> list[int]:
    with (run_dir / "history.csv").open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


# ---------------------------------------------------------------------------------------------
# End to end


def test_mlp_digits_reaches_95_percent(digits_run) -> None:
    assert digits_run.model.count_params() == 4_810
    assert digits_run.test["accuracy"] >= 0.95
    assert digits_run.run_dir.parent.name == "mlp_digits"


def test_run_directory_holds_every_file(digits_run) -> None:
    run_dir = digits_run.run_dir
    for name in ("config.yaml", "history.csv", "metrics.json", "model.keras", "run.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "plots" / "learning_curves.png").stat().st_size > 1000
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"loss", "accuracy"} <= set(metrics["test"])
    assert metrics["test"]["accuracy"] == pytest.approx(digits_run.test["accuracy"])
    assert metrics["parameters"]["total"] == 4_810
    assert metrics["epochs"] == len(digits_run.history["loss"])

    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "completed" and run["precision"] == "float32"
    assert load_config(run_dir / "config.yaml") == digits_run.config
    assert history_epochs(run_dir) == list(range(metrics["epochs"]))
    assert set(digits_run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # early stopping (patience 8) ended the run before the 40-epoch limit
    assert metrics["epochs"] < 40


def test_model_keras_reloads_and_predicts_the_same(digits_run) -> None:
    reloaded = keras.saving.load_model(digits_run.run_dir / "model.keras")
    x, _ = next(iter(digits_run.data.test))
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), digits_run.model.predict(x, verbose=0), rtol=1e-6, atol=1e-7
    )


def test_a_run_traces_its_train_step_once(tmp_path: Path, monkeypatch) -> None:
    """The optimizer's and metrics' variables exist before fit traces its step (Keras would
    create them in the first trace and then trace the step a second time)."""
    traces = []
    step = keras.Model.train_step

    def counted(self, data):
        traces.append(data)
        return step(self, data)

    monkeypatch.setattr(keras.Model, "train_step", counted)
    train(digits_config("training.epochs=2"), output_dir=tmp_path)
    assert len(traces) == 1


def test_run_directories_never_collide(tmp_path: Path) -> None:
    from keras_curriculum.training import rundir

    (first, lock1), (second, lock2) = (
        rundir.create(tmp_path, "x", {rundir.RUN_FILE: "{}\n"}) for _ in range(2)
    )
    lock1.release()
    lock2.release()
    assert first != second and first.parent == second.parent == tmp_path / "x"
    # each appeared with its run.json, and nothing else is left beside them
    assert (first / rundir.RUN_FILE).is_file() and (second / rundir.RUN_FILE).is_file()
    assert sorted((tmp_path / "x").iterdir()) == sorted([first, second])


def test_tensorboard_events_hold_epoch_loss(digits_run) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    epochs = len(digits_run.history["loss"])
    for split, key in (("train", "loss"), ("validation", "val_loss")):
        events = EventAccumulator(
            str(digits_run.run_dir / "tensorboard" / split),
            size_guidance={"tensors": 0, "scalars": 0},
        )
        events.Reload()
        tags = events.Tags()
        # Keras 3 writes summaries as tensors; older writers used scalars
        if "epoch_loss" in tags.get("tensors", []):
            import tensorflow as tf

            values = [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("epoch_loss")]
        else:
            assert "epoch_loss" in tags["scalars"], tags
            values = [e.value for e in events.Scalars("epoch_loss")]
        assert len(values) == epochs
        np.testing.assert_allclose(values, digits_run.history[key], rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Early stopping


class WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def test_early_stopping_stops_on_a_plateau_and_restores_the_best(tmp_path: Path) -> None:
    # A learning rate this small leaves val_loss on a plateau: no epoch after the first
    # improves it by min_delta, so training stops after 1 + patience epochs.
    config = digits_config(
        "training.epochs=20",
        "training.optimizer.learning_rate=1e-6",
        "training.callbacks.early_stopping={monitor: val_loss, patience: 2, min_delta: 0.01}",
    )
    recorder = WeightsPerEpoch()
    result = train(config, output_dir=tmp_path, callbacks=[recorder])
    val_loss = result.history["val_loss"]
    assert len(val_loss) == 3 < 20
    assert max(val_loss) - min(val_loss) < 0.01
    best = 0  # the first epoch: the only one that improved on +inf by min_delta
    final = result.model.get_weights()
    for restored, recorded in zip(final, recorder.weights[best], strict=True):
        np.testing.assert_array_equal(restored, recorded)
    # and they are not simply the last epoch's weights
    assert any(not np.array_equal(a, b) for a, b in zip(final, recorder.weights[-1], strict=True))
    saved = keras.saving.load_model(result.run_dir / "model.keras").get_weights()
    for a, b in zip(saved, final, strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Resume after SIGKILL, through the real console script


def test_resume_after_sigkill_ends_with_every_epoch_once(tmp_path: Path) -> None:
    epochs = 5
    output = tmp_path / "runs"
    # batch size 8 makes each epoch long enough (160 steps) to kill the run mid-way
    command = [
        str(BIN / "train"), "--config", str(DIGITS), "--output-dir", str(output),
        "--set", f"training.epochs={epochs}", "--set", "data.batch_size=8",
        "--set", "training.callbacks.early_stopping=false", "--set", "training.verbose=0",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    history = None
    try:
        while time.monotonic() < deadline and process.poll() is None:
            found = list(output.glob("mlp_digits/*/history.csv"))
            if found and len(found[0].read_text().splitlines()) >= 3:  # header + 2 epochs
                history = found[0]
                break
            time.sleep(0.05)
        assert history is not None, f"no epochs written: {process.stderr.read().decode()[-2000:]}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    run_dir = history.parent
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    done_before = len(history_epochs(run_dir))
    assert 2 <= done_before < epochs
    assert not (run_dir / "model.keras").exists()

    resumed = subprocess.run(
        [str(BIN / "train"), "--resume", str(run_dir), "--set", "training.verbose=1"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert history_epochs(run_dir) == list(range(epochs))
    # the Keras progress bar for the epochs left, then one closing line
    assert f"Epoch {epochs}/{epochs}" in resumed.stdout
    assert "Epoch 1/" not in resumed.stdout
    last = resumed.stdout.strip().splitlines()[-1]
    assert last.startswith(f"run {run_dir}: test ") and "accuracy" in last
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == epochs
    assert list(output.glob("mlp_digits/*")) == [run_dir]  # resumed in place


# ---------------------------------------------------------------------------------------------
# Mixed precision


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_on_cpu_with_float32_outputs(policy: str, tmp_path: Path) -> None:
    config = digits_config(
        f"training.mixed_precision={policy}",
        "training.epochs=2",
        "training.callbacks.tensorboard=false",
    )
    result = train(config, output_dir=tmp_path)
    model = result.model
    assert model.dtype_policy.name == policy
    assert model.layers[1].compute_dtype == policy.removeprefix("mixed_")
    assert model.output.dtype == "float32"
    x, _ = next(iter(result.data.test))
    assert model.predict(x, verbose=0).dtype == np.float32
    is_scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert is_scaled == (policy == "mixed_float16")  # float16 needs loss scaling, bfloat16 not
    assert np.isfinite(result.test["loss"]) and result.test["accuracy"] > 0.5
    assert json.loads((result.run_dir / "run.json").read_text())["precision"] == policy


# ---------------------------------------------------------------------------------------------
# Distribution, in fresh subprocesses

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import tensorflow as tf

    mode, output = sys.argv[1], sys.argv[2]
    if mode == "mirrored":  # two logical CPU devices, before TensorFlow's runtime starts
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_curriculum.training import load_config, train

    config = load_config(
        "configs/mlp_digits.yaml",
        [f"training.distribution={mode}", "training.epochs=2", "training.verbose=0"],
    )
    result = train(config, output_dir=output)
    print(json.dumps({"run_dir": str(result.run_dir), "test": result.test,
                      "replicas": json.loads((result.run_dir / "run.json").read_text())["replicas"]
                      if result.run_dir.exists() else None}))
    """
)


def start_worker(mode: str, output: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, mode, str(output)],
        cwd=REPO, env={**os.environ, **(env or {})}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def finish(process: subprocess.Popen, timeout: int = 600) -> dict:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_mirrored_on_two_logical_cpus(tmp_path: Path) -> None:
    result = finish(start_worker("mirrored", tmp_path / "runs"))
    assert result["replicas"] == 2
    assert result["test"]["accuracy"] > 0.5
    assert (Path(result["run_dir"]) / "model.keras").is_file()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_multi_worker_trains_and_only_the_chief_writes(tmp_path: Path) -> None:
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    outputs = [tmp_path / f"worker{index}" for index in range(2)]
    processes = [
        start_worker(
            "multi_worker",
            outputs[index],
            {
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": index}}
                )
            },
        )
        for index in range(2)
    ]
    chief, other = (finish(p) for p in processes)
    assert chief["replicas"] == 2  # one replica per worker, kept in sync
    assert chief["test"]["accuracy"] > 0.5
    assert Path(chief["run_dir"]).parent.parent == outputs[0]
    assert (Path(chief["run_dir"]) / "model.keras").is_file()
    assert not Path(other["run_dir"]).exists()  # the other worker's scratch directory is gone
    assert not outputs[1].exists()  # and it never wrote a run directory


# ---------------------------------------------------------------------------------------------
# Determinism (last: op determinism stays on for the process, so it is switched off after)


@pytest.fixture
def op_determinism_off_afterwards():
    yield
    from tensorflow.python.framework import config as tf_config  # no public switch-off

    tf_config.disable_op_determinism()


def test_same_seed_with_determinism_gives_identical_history(
    tmp_path: Path, op_determinism_off_afterwards
) -> None:
    overrides = ("training.deterministic=true", "training.epochs=3", "seed=7", "model.dropout=0.2")
    first = train(digits_config(*overrides), output_dir=tmp_path)
    keras.backend.clear_session()
    second = train(digits_config(*overrides), output_dir=tmp_path)
    assert first.run_dir != second.run_dir
    assert first.history == second.history
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    other = train(digits_config(*overrides[:2], "seed=8", overrides[3]), output_dir=tmp_path)
    assert other.history != first.history
