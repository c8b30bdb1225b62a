"""The experiment config: validation messages, ``extends``, ``--set`` overrides, the JSON Schema.

Every bad input must come back as one ConfigError whose text names the file and the full
field path and says what was expected; these tests pin the exact wording of the examples
the project promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS

from keras_curriculum.config import ExperimentConfig, json_schema, resolve_extends, to_yaml
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.training import load_config

DIGITS = CONFIGS / "mlp_digits.yaml"


def config_error(*overrides: str, path: Path = DIGITS) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, list(overrides))
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# Wrong values, unknown keys and names


@pytest.mark.parametrize(
    ("override", "message"),
    [
        # the two examples of the issue, word for word
        (
            "training.optimizer.learning_rate=fast",
            "training.optimizer.learning_rate: expected a number, got 'fast'",
        ),
        ("training.epoch=3", "training.epoch: unknown key; did you mean 'epochs'?"),
        ("training.epochs=three", "training.epochs: expected an integer, got 'three'"),
        ("training.epochs=0", "training.epochs: input should be greater than 0, got 0"),
        ("seed=abc", "seed: expected an integer, got 'abc'"),
        ("data.batch_size=[1]", "data.batch_size: expected an integer, got [1]"),
        (
            "training.callbacks.early_stopping.patience=soon",
            "training.callbacks.early_stopping.patience: expected an integer, got 'soon'",
        ),
        (
            "training.callbacks.early_stoping=true",
            "training.callbacks.early_stoping: unknown key; did you mean 'early_stopping'?",
        ),
        ("nme=x", "nme: unknown key; did you mean 'name'?"),
        ("model=3", "model: expected a mapping, got 3"),
        (
            "training.mixed_precision=half",
            "training.mixed_precision: expected one of 'auto', 'float32', 'mixed_float16' or"
            " 'mixed_bfloat16', got 'half'",
        ),
        (
            "training.optimizer.name=adamm",
            "training.optimizer.name: expected one of 'sgd', 'rmsprop', 'adagrad', 'adam' or"
            " 'adamw', got 'adamm'",
        ),
        # the string shorthand `optimizer: adam` is checked the same way
        ("training.optimizer=adamm", "training.optimizer.name: expected one of"),
    ],
)
def test_bad_value_names_file_field_and_expectation(override: str, message: str) -> None:
    text = config_error(override)
    assert text.startswith(f"--set: {message}")
    assert "\n" not in text


def test_unknown_model_suggests_the_closest() -> None:
    text = config_error("model.name=mlpp")
    assert text.startswith("--set: model.name: unknown model 'mlpp'; did you mean 'mlp'?")


def test_unknown_dataset_suggests_the_closest() -> None:
    text = config_error("data.name=digitz")
    assert text.startswith("--set: data.name: unknown dataset 'digitz'; did you mean 'digits'?")


def test_unknown_loss_is_caught_when_loading() -> None:
    text = config_error("training.loss=sparse_categorical_crossentropi")
    assert text.startswith("--set: training.loss.name: unknown loss")
    assert "did you mean 'sparse_categorical_crossentropy'?" in text


def test_unknown_metric_is_caught_when_loading() -> None:
    text = config_error("training.metrics=[accuracy, accurcy]")
    assert text.startswith("--set: training.metrics.1: unknown metric 'accurcy'")
    assert "did you mean 'accuracy'?" in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.hidden_unit=[32]", "model.hidden_unit: unknown key; did you mean 'hidden_units'?"),
        ("model.hidden_units=abc", "model.hidden_units: expected a list, got 'abc'"),
        ("model.hidden_units=[64, many]", "model.hidden_units.1: expected an integer, got 'many'"),
        ("model.dropout=lots", "model.dropout: expected a number, got 'lots'"),
        ("model.batch_norm=maybe", "model.batch_norm: expected true or false, got 'maybe'"),
        ("data.train_siz=10", "data.train_siz: unknown key"),
    ],
)
def test_factory_arguments_are_checked_against_the_signature(override: str, message: str) -> None:
    assert config_error(override).startswith(f"--set: {message}")


def test_loader_options_are_checked_against_the_loader() -> None:
    # fashion_mnist takes train_size; digits does not.
    base = CONFIGS / "cnn_fashion_mnist.yaml"
    assert load_config(base, ["data.train_size=100"]).data.options == {"train_size": 100}
    text = config_error("data.train_size=lots", path=base)
    assert text.startswith("--set: data.train_size: expected an integer, got 'lots'")


def test_missing_required_field(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nmodel: {name: mlp}\n")
    assert config_error(path=path) == f"{path}: data: missing required field"


# ---------------------------------------------------------------------------------------------
# Files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert config_error(path=path) == f"{path}: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert config_error(path=tmp_path).startswith(f"{tmp_path}: cannot read file")


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel: [mlp\n")
    text = config_error(path=path)
    assert text.startswith(f"{path}: invalid YAML: line 3")
    assert "\n" not in text


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert config_error(path=path) == f"{path}: expected a mapping at the top level, got list"


# ---------------------------------------------------------------------------------------------
# extends and --set


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def test_extends_is_relative_to_the_file_and_merges_mappings(tmp_path: Path) -> None:
    write(
        tmp_path / "base" / "base.yaml",
        {
            "name": "base",
            "model": {"name": "mlp", "hidden_units": [32], "activation": "tanh"},
            "data": {"name": "digits", "batch_size": 16},
            "training": {"epochs": 7, "optimizer": {"name": "sgd", "momentum": 0.9}},
        },
    )
    child = write(
        tmp_path / "child.yaml",
        {
            "extends": "base/base.yaml",
            "name": "child",
            "model": {"hidden_units": [8, 8]},
            "training": {"optimizer": {"learning_rate": 0.1}},
        },
    )
    config = load_config(child)
    assert config.name == "child"
    assert config.model.arguments == {"hidden_units": [8, 8], "activation": "tanh"}
    assert config.data.batch_size == 16
    assert config.training.epochs == 7
    optimizer = config.training.optimizer
    assert (optimizer.name, optimizer.momentum, optimizer.learning_rate) == ("sgd", 0.9, 0.1)


def test_extends_chain_and_missing_parent(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", {"name": "a", "model": {"name": "mlp"}, "data": {"name": "digits"}})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "seed": 3})
    c = write(tmp_path / "c.yaml", {"extends": "b.yaml", "name": "c"})
    config = load_config(c)
    assert (config.name, config.seed, config.model.name) == ("c", 3, "mlp")

    orphan = write(tmp_path / "orphan.yaml", {"extends": "missing.yaml", "name": "o"})
    assert config_error(path=orphan) == f"{orphan}: extends: no such file: missing.yaml"


def test_circular_extends(tmp_path: Path) -> None:
    first = write(tmp_path / "first.yaml", {"extends": "second.yaml", "name": "first"})
    write(tmp_path / "second.yaml", {"extends": "first.yaml", "name": "second"})
    text = config_error(path=first)
    assert "extends: circular extends" in text
    with pytest.raises(ConfigError):
        load_config(tmp_path / "second.yaml")
    itself = write(tmp_path / "self.yaml", {"extends": "self.yaml", "name": "self"})
    assert "circular extends" in config_error(path=itself)


def test_overrides_are_parsed_as_yaml() -> None:
    config = load_config(
        DIGITS,
        [
            "training.epochs=3",
            "model.hidden_units=[128,64]",
            "model.dropout=0.25",
            "model.batch_norm=true",
            "training.optimizer={name: sgd, learning_rate: 0.5, nesterov: true, momentum: 0.9}",
            "training.callbacks.early_stopping=false",
            "output_dir=elsewhere",
            "data.shuffle_buffer=null",
        ],
    )
    assert config.training.epochs == 3
    assert config.model.arguments["hidden_units"] == [128, 64]
    assert config.model.arguments["dropout"] == 0.25
    assert config.model.arguments["batch_norm"] is True
    assert config.training.optimizer.name == "sgd"
    assert config.training.optimizer.nesterov is True
    assert config.training.callbacks.early_stopping is None
    assert config.output_dir == "elsewhere"


def test_override_creates_nested_sections_and_later_wins() -> None:
    config = load_config(
        DIGITS,
        ["training.optimizer.schedule.name=cosine", "training.epochs=2", "training.epochs=5"],
    )
    assert config.training.optimizer.schedule.name == "cosine"
    assert config.training.epochs == 5


def test_linear_schedule_falls_straight_to_alpha_times_the_rate() -> None:
    from keras_curriculum.objectives import build_schedule

    config = load_config(
        DIGITS,
        ["training.optimizer.schedule={name: linear, alpha: 0.01}",
         "training.optimizer.learning_rate=0.5"],
    )  # fmt: skip
    schedule = build_schedule(config.training.optimizer, steps_per_epoch=10, epochs=4)
    rates = [float(schedule(step)) for step in (0, 20, 40, 60)]
    assert rates == pytest.approx([0.5, 0.2525, 0.005, 0.005])
    message = config_error("training.optimizer.schedule={name: linear, warmup_epochs: 1}")
    assert message == (
        "--set: training.optimizer.schedule: warmup_epochs is a cosine option"
        " (schedule is linear), got {'name': 'linear', 'warmup_epochs': 1}"
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training.epochs", "--set: expected KEY=VALUE, got 'training.epochs'"),
        ("=3", "--set: expected KEY=VALUE, got '=3'"),
        ("model.hidden_units=[1,", "--set model.hidden_units: value is not valid YAML: '[1,'"),
        ("seed.value=1", "--set seed.value: seed is 0, not a mapping"),
    ],
)
def test_bad_overrides(override: str, message: str) -> None:
    assert config_error(override) == message


def test_in_memory_config_and_round_trip(tmp_path: Path) -> None:
    config = load_config(data={"name": "m", "model": {"name": "mlp"}, "data": {"name": "digits"}})
    assert config.training.loss.name == "sparse_categorical_crossentropy"
    assert config.training.metrics == ["accuracy"]
    # the resolved YAML (what --print-config prints and runs keep) loads back to the same config
    path = tmp_path / "resolved.yaml"
    path.write_text(to_yaml(load_config(DIGITS)))
    assert load_config(path) == load_config(DIGITS)


def test_in_memory_errors_have_no_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            data={
                "name": "m",
                "model": {"name": "mlp"},
                "data": {"name": "digits", "batch_size": 0},
            }
        )
    assert str(caught.value) == "data.batch_size: input should be greater than 0, got 0"


def test_config_error_is_a_curriculum_error() -> None:
    assert issubclass(ConfigError, CurriculumError)


# ---------------------------------------------------------------------------------------------
# JSON Schema


def shipped_configs() -> list[Path]:
    return sorted(CONFIGS.rglob("*.yaml"))


@pytest.mark.parametrize("path", shipped_configs(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_schema_validates_every_shipped_config(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    # the file as written (extends resolved, since a child alone may lack required sections)
    jsonschema.validate(resolve_extends(path), schema)


def test_schema_rejects_what_the_loader_rejects() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    good = yaml.safe_load(DIGITS.read_text())
    jsonschema.validate(good, schema)
    for path, value in [
        (("training", "epoch"), 3),
        (("training", "optimizer", "learning_rate"), "fast"),
        (("training", "mixed_precision"), "half"),
    ]:
        bad = json.loads(json.dumps(good))
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_schema_describes_fields() -> None:
    schema = json_schema()
    assert schema["title"] == "keras-curriculum experiment config"
    assert "extends" in schema["properties"]
    assert schema["properties"]["seed"]["description"]
    assert set(schema["required"]) == {"name", "model", "data"}
    assert ExperimentConfig.model_json_schema()["$defs"]["TrainingConfig"]
