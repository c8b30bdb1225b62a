"""The experiment config: one YAML file describes one experiment.

A config has five sections — ``model``, ``data``, ``training`` and the run's ``name``, ``seed``
and ``output_dir`` — validated into the typed objects below. ``model`` and ``data`` name a
registered factory/loader; their other keys are its keyword arguments, checked against its
signature before anything is built.

Loading supports ``extends: base.yaml`` (a path relative to the file; the child's keys win,
mappings merge recursively) and command-line overrides ``--set training.epochs=3``, whose
values are parsed as YAML (``--set model.hidden_units=[128,64]``).

Every error names the file and the full field path, e.g.
``configs/x.yaml: training.optimizer.learning_rate: expected a number, got 'fast'``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from keras_curriculum.errors import ConfigError, describe_validation_error

# Integers are strict: YAML's `true` is not 1 epoch, and 2.5 is not 2.
Int = Annotated[int, Strict()]

# Bounds on what one config file may cost to read: its size, its nesting and how far its
# aliases expand (nine levels of nine aliases are 9⁹ nodes built from a 1 kB file).
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
RUN_NAME = re.compile(r"[A-Za-z0-9._-]+")


class Section(BaseModel):
    """A config section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(BaseModel):
    """Which model to build. ``name`` is a registry key (``keras-curriculum list``); every other
    key is passed to the factory as a keyword argument."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="Registered model factory, e.g. 'mlp' or 'cnn'.")

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DataConfig(BaseModel):
    """Which dataset to load and how to batch and split it. Keys other than those below are
    the loader's own options (e.g. ``train_size`` for ``fashion_mnist``)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="Registered dataset, or 'tfds:<name>' for TensorFlow Datasets.")
    batch_size: Int = Field(32, gt=0, description="Examples per training step.")
    validation_split: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Fraction of the training data held out for validation when the source has no validation split.",
    )
    test_split: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="Fraction held out for testing when the source has no test split.",
    )
    targets: Literal["labels", "inputs"] = Field(
        "labels", description="'inputs' makes the targets the inputs themselves (autoencoders)."
    )
    shuffle_buffer: Int | None = Field(
        None,
        gt=0,
        description="Shuffle buffer size; default: the whole training split (or 10,000 for streams).",
    )

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ScheduleConfig(Section):
    """A learning-rate schedule (steps are optimizer steps; ``*_epochs`` fields are converted)."""

    name: Literal["constant", "piecewise", "exponential", "power", "cosine", "linear"] = "constant"
    boundaries_epochs: list[float] = Field(
        default_factory=list, description="piecewise: epochs at which the rate changes."
    )
    values: list[float] = Field(
        default_factory=list, description="piecewise: the rates, one more than boundaries."
    )
    decay_rate: float = Field(0.96, description="exponential: factor per decay_epochs.")
    decay_epochs: float = Field(
        1.0, gt=0, description="exponential: epochs per decay_rate factor; power: T in epochs."
    )
    power: float = Field(
        1.0, gt=0, description="power: the exponent c of α₀·(1 + t/T)^(−c) (001 §16.1.3)."
    )
    warmup_epochs: float = Field(
        0.0, ge=0, description="cosine: linear warmup from 0 to the learning rate."
    )
    alpha: float = Field(
        0.0, ge=0, description="cosine, linear: final rate as a fraction of the peak."
    )

    @model_validator(mode="after")
    def _schedule_options(self):
        if self.name == "piecewise" and len(self.values) != len(self.boundaries_epochs) + 1:
            raise ValueError("piecewise needs exactly one more value than boundaries_epochs")
        if self.warmup_epochs and self.name != "cosine":
            raise ValueError(f"warmup_epochs is a cosine option (schedule is {self.name})")
        return self


class OptimizerConfig(Section):
    name: Literal["sgd", "rmsprop", "adagrad", "adam", "adamw"] = "adam"
    learning_rate: float = Field(1e-3, gt=0, description="Initial (or peak) learning rate.")
    momentum: float = Field(0.0, ge=0, lt=1, description="sgd: momentum; rmsprop: momentum.")
    nesterov: bool = Field(False, description="sgd: Nesterov momentum.")
    weight_decay: float | None = Field(
        None, ge=0, description="Decoupled weight decay (adamw, or any optimizer)."
    )
    clipnorm: float | None = Field(None, gt=0, description="Clip each gradient to this norm.")
    beta_1: float = Field(0.9, gt=0, lt=1, description="adam/adamw: first-moment decay.")
    beta_2: float = Field(0.999, gt=0, lt=1, description="adam/adamw: second-moment decay.")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)


class LossConfig(Section):
    name: str = Field(description="A Keras loss name, e.g. 'sparse_categorical_crossentropy'.")
    from_logits: bool | None = None
    label_smoothing: float | None = Field(None, ge=0, lt=1)


class EarlyStoppingConfig(Section):
    monitor: str = "val_loss"
    patience: Int = Field(5, ge=0)
    min_delta: float = 0.0
    restore_best_weights: bool = True


class ReduceLROnPlateauConfig(Section):
    monitor: str = "val_loss"
    factor: float = Field(0.1, gt=0, lt=1)
    patience: Int = Field(5, ge=0)
    min_lr: float = 0.0


class TensorBoardConfig(Section):
    histogram_freq: Int = Field(0, ge=0)
    update_freq: Literal["epoch", "batch"] | int = "epoch"
    profile_batch: int | tuple[int, int] = 0


class CallbacksConfig(Section):
    """Keras callbacks; each is on when given (``true`` or a mapping of its options)."""

    early_stopping: EarlyStoppingConfig | None = None
    reduce_lr_on_plateau: ReduceLROnPlateauConfig | None = None
    model_checkpoint: bool = Field(
        True,
        description="Keep the best weights (by val_loss) as checkpoints/best.weights.h5.",
    )
    backup_and_restore: bool = Field(
        True, description="Back up each epoch so --resume can continue an interrupted run."
    )
    tensorboard: TensorBoardConfig | None = Field(default_factory=TensorBoardConfig)
    terminate_on_nan: bool = True

    @model_validator(mode="before")
    @classmethod
    def _true_means_defaults(cls, values: Any) -> Any:
        if isinstance(values, dict):
            values = dict(values)
            for key in ("early_stopping", "reduce_lr_on_plateau", "tensorboard"):
                if values.get(key) is True:
                    values[key] = {}
                elif values.get(key) is False:
                    values[key] = None
        return values


class PhaseConfig(Section):
    """One phase of training in phases (transfer learning, 001 §21): how many epochs, which
    part of the model's layer named ``backbone`` trains, and at which rate."""

    epochs: int = Field(gt=0, strict=True)
    backbone: Literal["frozen", "trainable"] | int = Field(
        "frozen",
        description="frozen: only the layers outside the backbone train; trainable: all; "
        "N: the backbone's top N layers with weights (BatchNorm not counted) train too; its "
        "BatchNorm layers stay frozen, in inference mode, in every phase.",
    )
    learning_rate: float | None = Field(
        None, gt=0, description="This phase's rate (default: training.optimizer.learning_rate)."
    )


class TrainingConfig(Section):
    epochs: Int = Field(10, gt=0)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    loss: LossConfig | None = Field(
        default_factory=lambda: LossConfig(name="sparse_categorical_crossentropy"),
        description="null when the model computes its own loss (add_loss/compute_loss).",
    )
    metrics: list[str] = Field(default_factory=lambda: ["accuracy"])
    callbacks: CallbacksConfig = Field(default_factory=CallbacksConfig)
    mixed_precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "auto",
        description="auto: mixed_float16 on a CUDA GPU of compute capability ≥ 7.0, else float32.",
    )
    distribution: Literal["auto", "none", "mirrored", "multi_worker"] = Field(
        "auto", description="auto: mirrored when more than one GPU is visible."
    )
    deterministic: bool = Field(
        False, description="Enable TensorFlow op determinism (same seed → same history)."
    )
    jit_compile: bool | Literal["auto"] = "auto"
    steps_per_execution: Int = Field(1, gt=0)
    phases: list[PhaseConfig] = Field(
        default_factory=list,
        description="Training in phases (transfer learning); epochs is then their total.",
    )
    tta: list[Literal["identity", "flip", "shift"]] = Field(
        default_factory=list,
        description="Test-time augmentation: metrics.json also reports test_tta, the test "
        "metrics of predictions averaged over these copies of each image.",
    )
    verbose: Literal[0, 1, 2] = Field(
        1, description="Keras progress output: 0 silent, 1 bar, 2 one line per epoch."
    )

    @model_validator(mode="before")
    @classmethod
    def _loss_shorthand(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("loss"), str):
            values = {**values, "loss": {"name": values["loss"]}}
        if isinstance(values, dict) and isinstance(values.get("optimizer"), str):
            values = {**values, "optimizer": {"name": values["optimizer"]}}
        return values

    @model_validator(mode="before")
    @classmethod
    def _epochs_from_phases(cls, values: Any) -> Any:
        phases = values.get("phases") if isinstance(values, dict) else None
        if phases and isinstance(phases, list) and all(isinstance(p, dict) for p in phases):
            total = sum(p.get("epochs", 0) for p in phases if isinstance(p.get("epochs"), int))
            if "epochs" in values and values["epochs"] != total:
                raise ValueError(
                    f"epochs ({values['epochs']}) must equal the phases' total ({total})"
                    " or be left out"
                )
            values = {**values, "epochs": total}
        return values


class ExperimentConfig(Section):
    """One experiment: what to build, what to train it on, and how."""

    name: str = Field(description="Run name; runs go to OUTPUT_DIR/<name>/<timestamp>/.")
    seed: Int = Field(0, description="Seeds Python, NumPy, TensorFlow and Keras.")
    model: ModelConfig
    data: DataConfig
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    output_dir: str = Field("runs", description="Parent folder of run directories.")
    description: Annotated[
        str, Field(description="Free text shown by `keras-curriculum list`.")
    ] = ""

    @field_validator("name")
    @classmethod
    def _one_folder_name(cls, name: str) -> str:
        # The name becomes a folder under output_dir: a path in it would put the run elsewhere.
        if not RUN_NAME.fullmatch(name) or set(name) == {"."}:
            raise ValueError(
                "expected one folder name of letters, digits, '.', '_' or '-'"
                " (no '/', not '..', not empty)"
            )
        return name


# ---------------------------------------------------------------------------------------------
# Loading: YAML → dict (extends, overrides) → ExperimentConfig.


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the nesting depth and the aliases' expanded size bounded.

    PyYAML builds an alias as a reference to its anchor's object, so a small file can stand
    for an enormous tree that only the validation or a copy would expand; this loader counts
    every node as it would be expanded and stops at :data:`MAX_EXPANDED_NODES`. Depth is
    bounded before Python's recursion limit, which the composer would otherwise hit, and in
    the scanner, whose cost grows with the square of the depth of ``[``/``{`` nesting.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}  # id(anchored node) -> its expanded size

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            node = super().compose_node(parent, index)
            self._count(self._sizes.get(id(node), 1), anchor)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooLarge(self._too_deep(self.peek_event().start_mark))
        before = self._expanded
        self._count(1, None)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._expanded - before
        return node

    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_DEPTH:
            raise _TooLarge(self._too_deep(self.get_mark()))
        super().fetch_flow_collection_start(TokenClass)

    def _too_deep(self, mark) -> str:
        return f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep"

    def _count(self, nodes: int, anchor: str | None) -> None:
        self._expanded += nodes
        if self._expanded > MAX_EXPANDED_NODES:
            through = f" (through the alias *{anchor})" if anchor else ""
            raise _TooLarge(f"expands to more than {MAX_EXPANDED_NODES:,} values{through}")


class _TooLarge(Exception):
    pass


def parse_yaml(text: str) -> Any:
    """Parses YAML text with :class:`_BoundedLoader`; raises ``yaml.YAMLError``, or
    :class:`ConfigError` (no field) for a document too deep or too large."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except _TooLarge as error:
        raise ConfigError(None, f"YAML {error}") from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # bounded: /dev/zero never ends
    except FileNotFoundError:
        raise ConfigError(None, "no such file", source=str(path)) from None
    except (IsADirectoryError, PermissionError) as error:
        raise ConfigError(
            None, f"cannot read file ({error.__class__.__name__})", source=str(path)
        ) from None
    except OSError as error:
        raise ConfigError(None, f"cannot read file ({error.strerror})", source=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            None, f"file is larger than {MAX_FILE_BYTES // 2**20} MB", source=str(path)
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(None, "cannot read file (not UTF-8 text)", source=str(path)) from None
    try:
        data = parse_yaml(text)
    except ConfigError as error:
        raise error.with_source(str(path)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(None, f"invalid YAML: {where}{problem}", source=str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            None,
            f"expected a mapping at the top level, got {type(data).__name__}",
            source=str(path),
        )
    return data


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive merge: mappings merge, anything else in ``override`` replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_extends(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError("extends", f"expected a file path, got {parent!r}", source=str(path))
    parent_path = (path.parent / parent).resolve()
    if parent_path in seen:
        raise ConfigError("extends", f"circular extends through {parent}", source=str(path))
    if not parent_path.exists():
        raise ConfigError("extends", f"no such file: {parent}", source=str(path))
    return merge(resolve_extends(parent_path, (*seen, path.resolve())), data)


def apply_override(data: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Applies one ``dotted.key=value`` override; the value is parsed as YAML."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError("--set", f"expected KEY=VALUE, got {assignment!r}")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"--set {key}", f"value is not valid YAML: {raw!r}") from None
    except ConfigError as error:
        raise ConfigError(f"--set {key}", error.message) from None
    out = copy.deepcopy(data)
    node = out
    parts = key.split(".")
    for index, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(
                f"--set {key}", f"{'.'.join(parts[: index + 1])} is {child!r}, not a mapping"
            )
        node = child
    node[parts[-1]] = value
    return out


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    data: dict[str, Any] | None = None,
    check: Callable[[ExperimentConfig], None] | None = None,
) -> ExperimentConfig:
    """Reads, merges, overrides and validates a config file (or an in-memory ``data`` dict).

    This module knows the schema only; ``check`` (``keras_curriculum.training.check_config``
    when called through :func:`keras_curriculum.load_config`) looks the names up in the
    registries, and its :class:`ConfigError` is reported with the file like any other.
    """
    source = str(path) if path is not None else None
    try:
        raw = resolve_extends(Path(path)) if path is not None else copy.deepcopy(data or {})
        for assignment in overrides:
            raw = apply_override(raw, assignment)
        config = validate(raw)
        if check is not None:
            check(config)
    except ConfigError as error:
        blamed = _blame(error, overrides)
        raise error.with_source(source if blamed is None else blamed) from None
    return config


def _blame(error: ConfigError, overrides: list[str] | tuple[str, ...]) -> str | None:
    """'--set' when the bad value came from an override (one that set the field or a section
    above it), so the error does not send the user looking in the file; else None."""
    if error.source or not error.field:
        return None
    if error.field.startswith("--set"):
        return ""  # the field already names the override
    for assignment in overrides:
        key = assignment.partition("=")[0].strip()
        if error.field == key or error.field.startswith(f"{key}."):
            return "--set"
    return None


def validate(raw: dict[str, Any]) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as error:
        location, message = describe_validation_error(error.errors()[0], ExperimentConfig)
        raise ConfigError(location, message) from None


def to_yaml(config: ExperimentConfig) -> str:
    """The resolved config as YAML (what ``--print-config`` shows and run directories keep)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def json_schema() -> dict[str, Any]:
    """JSON Schema for config files (``keras-curriculum schema``), for editor validation."""
    schema = ExperimentConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "keras-curriculum experiment config"
    schema.setdefault("properties", {})["extends"] = {
        "type": "string",
        "description": "A base config (path relative to this file) whose keys this file overrides.",
    }
    _allow_shorthands(schema["$defs"])
    return schema


def _allow_shorthands(definitions: dict[str, Any]) -> None:
    """Adds the shorthands the loader accepts to the schema: ``loss: <name>``,
    ``optimizer: <name>`` and ``<callback>: true | false``."""
    training = definitions["TrainingConfig"]["properties"]
    training["loss"]["anyOf"].insert(
        0, {"type": "string", "description": "A Keras or project loss name."}
    )
    optimizer_names = definitions["OptimizerConfig"]["properties"]["name"]["enum"]
    training["optimizer"] = {
        "anyOf": [training["optimizer"], {"type": "string", "enum": optimizer_names}],
        "description": "An optimizer mapping, or just its name.",
    }
    callbacks = definitions["CallbacksConfig"]["properties"]
    for key in ("early_stopping", "reduce_lr_on_plateau", "tensorboard"):
        callbacks[key]["anyOf"].append(
            {"type": "boolean", "description": "true: on with defaults."}
        )
