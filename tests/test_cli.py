"""The command line: ``train`` and ``keras-curriculum``.

Every bad input exits with status 2 and one line on stderr naming the field or the file,
with no traceback and no run directory. Most cases call the entry points in-process
(``cli.train_main`` / ``cli.main``); a few run the real console scripts in a subprocess,
where TensorFlow's own start-up output would show up on stderr too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, run_cli

from keras_curriculum import cli
from keras_curriculum.training import load_config

DIGITS = CONFIGS / "mlp_digits.yaml"


def call(entry, *args, capsys) -> tuple[int, str, str]:
    """Runs an entry point in-process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        entry([str(a) for a in args])
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def assert_one_line_error(status: int, err: str, *needles: str) -> None:
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A short real run of mlp_digits (2 epochs), for evaluate and --resume."""
    from keras_curriculum.training import train

    config = load_config(DIGITS, ["training.epochs=2", "training.verbose=0"])
    return train(config, output_dir=tmp_path_factory.mktemp("runs")).run_dir


# ---------------------------------------------------------------------------------------------
# Bad input, in-process


def bad_train_inputs(tmp: Path) -> list[tuple[list[str], list[str]]]:
    broken = tmp / "broken.yaml"
    broken.write_text("name: x\nmodel: {name: mlp\n")
    not_a_file = tmp / "plain.txt"
    not_a_file.write_text("I am a file\n")
    config = ["--config", str(DIGITS)]
    return [
        (["--config", str(tmp / "nope.yaml")], [f"{tmp / 'nope.yaml'}: no such file"]),
        (["--config", str(broken)], [str(broken), "invalid YAML: line 3"]),
        (["--config", str(tmp)], [str(tmp), "cannot read file"]),
        (
            [*config, "--set", "training.optimizer.learning_rate=fast"],
            ["--set: training.optimizer.learning_rate: expected a number, got 'fast'"],
        ),
        (
            [*config, "--set", "training.epoch=3"],
            ["training.epoch: unknown key; did you mean 'epochs'?"],
        ),
        ([*config, "--set", "model.name=mlpp"], ["model.name: unknown model 'mlpp'"]),
        ([*config, "--set", "data.name=digitz"], ["data.name: unknown dataset 'digitz'"]),
        ([*config, "--set", "training.optimizer.name=adamm"], ["training.optimizer.name"]),
        (
            [*config, "--set", "training.loss=crossentropi"],
            ["--set: training.loss.name: unknown loss"],
        ),
        (
            [*config, "--set", "training.metrics=[accuracy, nope]"],
            ["training.metrics.1: unknown metric 'nope'"],
        ),
        (
            [*config, "--set", "model.hidden_units=[a]"],
            ["model.hidden_units.0: expected an integer"],
        ),
        ([*config, "--set", "model.widht=3"], ["model.widht: unknown key"]),
        ([*config, "--set", "training.epochs"], ["--set: expected KEY=VALUE"]),
        # a path under a regular file can never be created, whoever runs the tests (root too)
        (
            [*config, "--output-dir", str(not_a_file / "runs")],
            [str(not_a_file), "is not a directory"],
        ),
        (["--resume", str(tmp)], [str(tmp), "is not a run directory"]),
        (["--resume", str(tmp / "missing")], [str(tmp / "missing"), "is not a directory"]),
        ([], ["train needs --config FILE or --resume RUN_DIR"]),
        ([*config, "--epochs", "3"], ["unrecognized arguments: --epochs 3"]),
    ]


def test_every_bad_train_input_is_one_line_and_status_2(tmp_path: Path, capsys) -> None:
    output = tmp_path / "out"
    for args, needles in bad_train_inputs(tmp_path):
        if "--output-dir" not in args:
            args = [*args, "--output-dir", str(output)]
        status, _, err = call(cli.train_main, *args, capsys=capsys)
        assert_one_line_error(status, err, *needles)
        assert not output.exists(), args  # no run directory (not even its parent) left behind


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root writes through mode 0o500")
def test_unwritable_output_directory(tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        status, _, err = call(
            cli.train_main, "--config", DIGITS, "--output-dir", locked / "runs", capsys=capsys
        )
    finally:
        locked.chmod(0o700)
    assert_one_line_error(status, err, str(locked / "runs"), "not writable")
    assert list(locked.iterdir()) == []


def test_debug_raises_instead_of_printing(tmp_path: Path, capsys) -> None:
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError, match="no such file"):
        cli.train_main(["--config", str(tmp_path / "nope.yaml"), "--debug"])


def test_keras_curriculum_bad_inputs(tmp_path: Path, capsys) -> None:
    cases = [
        (["summary", "--config", tmp_path / "nope.yaml"], ["no such file"]),
        (
            ["summary", "--config", DIGITS, "--set", "model.hidden_units=abc"],
            ["model.hidden_units"],
        ),
        (["evaluate", tmp_path], [str(tmp_path), "is not a run directory"]),
        (["data", "prepare", "no_such_dataset"], ["'no_such_dataset' needs no preparation"]),
        (["data", "prepare"], ["data prepare needs dataset names or --all"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
        (["schema", "--output", tmp_path / "missing" / "schema.json"], ["cannot write"]),
    ]
    for args, needles in cases:
        status, _, err = call(cli.main, *args, capsys=capsys)
        assert_one_line_error(status, err, *needles)


# ---------------------------------------------------------------------------------------------
# Bad input through the real console scripts


def test_console_script_bad_config_leaves_no_run(tmp_path: Path) -> None:
    output = tmp_path / "runs"
    result = run_cli(
        "train", "--config", str(DIGITS), "--set", "training.optimizer.learning_rate=fast",
        "--output-dir", str(output),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --set: training.optimizer.learning_rate: expected a number, got 'fast'"
    )
    assert result.stdout == ""
    assert not output.exists()


def test_console_script_debug_shows_the_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    debug = run_cli("train", "--config", str(missing), "--debug")
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and f"{missing}: no such file" in debug.stderr


# ---------------------------------------------------------------------------------------------
# What works


def test_print_config_prints_the_resolved_config(tmp_path: Path, capsys) -> None:
    status, out, err = call(
        cli.train_main,
        "--config", DIGITS, "--set", "training.epochs=3", "--set", "model.hidden_units=[16,8]",
        "--print-config", "--output-dir", tmp_path / "runs",
        capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    printed = yaml.safe_load(out)
    assert printed["training"]["epochs"] == 3
    assert printed["model"] == {"name": "mlp", "hidden_units": [16, 8], "activation": "relu"}
    assert printed["training"]["optimizer"]["learning_rate"] == 0.003  # defaults filled in
    assert load_config(data=printed) == load_config(
        DIGITS, ["training.epochs=3", "model.hidden_units=[16,8]"]
    )
    assert not (tmp_path / "runs").exists()


def test_list_names_models_datasets_and_configs() -> None:
    result = run_cli("keras-curriculum", "list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("models:", "datasets:", "configs (configs):"):
        assert section in out
    assert "\n  mlp " in out and "\n  cnn " in out
    assert "\n  digits " in out and "\n  fashion_mnist " in out
    assert "mlp_digits.yaml" in out and "4,810 parameters" in out


def test_summary_ends_with_total_params() -> None:
    result = run_cli("keras-curriculum", "summary", "--config", "configs/mlp_digits.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().splitlines()[-1] == "Total params: 4,810"
    assert "hidden1_dense" in result.stdout


def test_summary_applies_overrides(capsys) -> None:
    status, out, err = call(
        cli.main, "summary", "--config", DIGITS, "--set", "model.hidden_units=[32]", capsys=capsys
    )
    assert status == 0, err
    assert out.rstrip().splitlines()[-1] == f"Total params: {65 * 32 + 33 * 10:,}"


def test_schema_command(tmp_path: Path, capsys) -> None:
    status, out, _ = call(cli.main, "schema", capsys=capsys)
    assert status == 0
    assert json.loads(out)["title"] == "keras-curriculum experiment config"
    target = tmp_path / "schema.json"
    status, out, _ = call(cli.main, "schema", "-o", target, capsys=capsys)
    assert status == 0 and out.strip() == f"wrote {target}"
    assert "properties" in json.loads(target.read_text())


def test_evaluate_run_dir(finished_run: Path, capsys) -> None:
    status, out, err = call(cli.main, "evaluate", finished_run, capsys=capsys)
    assert status == 0, err
    evaluated = json.loads(out)["test"]
    recorded = json.loads((finished_run / "metrics.json").read_text())["test"]
    assert evaluated.keys() == recorded.keys() == {"loss", "accuracy"}
    for key, value in recorded.items():
        assert evaluated[key] == pytest.approx(value, abs=1e-5)


def test_resume_of_a_completed_run_is_refused(finished_run: Path, capsys) -> None:
    before = sorted(p.name for p in finished_run.iterdir())
    status, _, err = call(cli.train_main, "--resume", finished_run, capsys=capsys)
    assert_one_line_error(status, err, str(finished_run), "already completed")
    assert sorted(p.name for p in finished_run.iterdir()) == before


def test_data_prepare_all_with_no_preparers(monkeypatch, capsys) -> None:
    from keras_curriculum import datasets

    monkeypatch.setattr(datasets, "preparers", {})
    status, out, err = call(cli.main, "data", "prepare", "--all", capsys=capsys)
    assert status == 0, err
    assert out.strip() == "no dataset needs preparing"


def test_topic_commands_appear() -> None:
    """Every command a topic module lists is a subcommand of keras-curriculum."""
    from keras_curriculum.cli import text, word2vec

    parser = cli.main_parser()
    (subcommands,) = (a for a in parser._actions if a.dest == "command")
    for name, *_ in (*text.COMMANDS, *word2vec.COMMANDS):
        assert name in subcommands.choices
