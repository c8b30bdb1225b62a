"""Optimizers, learning-rate schedules, losses and metrics, built from the config.

Project-specific losses and metrics (a Dice loss, a per-class IoU) register here by name;
their factories may take any field of the data's metadata (``num_classes``, …) by name.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import keras

from keras_curriculum.errors import ConfigError, did_you_mean
from keras_curriculum.training.config import LossConfig, OptimizerConfig, ScheduleConfig

_losses: dict[str, Callable[..., Any]] = {}
_metrics: dict[str, Callable[..., Any]] = {}


def register_loss(name: str):
    def decorator(factory):
        _losses[name] = factory
        return factory

    return decorator


def register_metric(name: str):
    def decorator(factory):
        _metrics[name] = factory
        return factory

    return decorator


def import_objective_modules() -> None:
    """Imports ``training/*_objectives.py``, whose losses and metrics register on import."""
    import importlib
    import pkgutil

    import keras_curriculum.training as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_objectives"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def _call_with_metadata(factory: Callable[..., Any], metadata: dict[str, Any], **kwargs: Any):
    parameters = inspect.signature(factory).parameters
    return factory(**{k: v for k, v in metadata.items() if k in parameters}, **kwargs)


def build_schedule(config: OptimizerConfig, steps_per_epoch: int, epochs: int):
    schedule: ScheduleConfig = config.schedule
    rate = config.learning_rate
    if schedule.name == "constant":
        return rate
    if schedule.name == "piecewise":
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            boundaries=[int(b * steps_per_epoch) for b in schedule.boundaries_epochs],
            values=list(schedule.values),
        )
    if schedule.name == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            rate,
            decay_steps=max(1, int(schedule.decay_epochs * steps_per_epoch)),
            decay_rate=schedule.decay_rate,
        )
    if schedule.name == "linear":  # word2vec's decay: straight down to alpha · rate
        return keras.optimizers.schedules.PolynomialDecay(
            rate, decay_steps=max(1, epochs * steps_per_epoch),
            end_learning_rate=schedule.alpha * rate, power=1.0,
        )  # fmt: skip
    warmup = int(schedule.warmup_epochs * steps_per_epoch)
    total = max(1, epochs * steps_per_epoch - warmup)
    if warmup:
        return keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=total, alpha=schedule.alpha, warmup_target=rate, warmup_steps=warmup
        )
    return keras.optimizers.schedules.CosineDecay(rate, decay_steps=total, alpha=schedule.alpha)


def build_optimizer(
    config: OptimizerConfig, *, steps_per_epoch: int, epochs: int
) -> keras.optimizers.Optimizer:
    learning_rate = build_schedule(config, steps_per_epoch, epochs)
    common: dict[str, Any] = {"learning_rate": learning_rate, "clipnorm": config.clipnorm}
    if config.weight_decay is not None:
        common["weight_decay"] = config.weight_decay
    if config.name == "sgd":
        return keras.optimizers.SGD(momentum=config.momentum, nesterov=config.nesterov, **common)
    if config.name == "rmsprop":
        return keras.optimizers.RMSprop(momentum=config.momentum, **common)
    if config.name == "adagrad":
        return keras.optimizers.Adagrad(**common)
    if config.name == "adam":
        return keras.optimizers.Adam(beta_1=config.beta_1, beta_2=config.beta_2, **common)
    return keras.optimizers.AdamW(beta_1=config.beta_1, beta_2=config.beta_2, **common)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def build_loss(config: LossConfig | None, metadata: dict[str, Any]):
    if config is None:
        return None
    import_objective_modules()
    options = {
        k: v
        for k, v in (
            ("from_logits", config.from_logits),
            ("label_smoothing", config.label_smoothing),
        )
        if v is not None
    }
    if config.name in _losses:
        return _call_with_metadata(_losses[config.name], metadata, **options)
    cls = getattr(keras.losses, _camel(config.name), None)
    if isinstance(cls, type) and issubclass(cls, keras.losses.Loss):
        try:
            return cls(**options)
        except TypeError as error:
            raise ConfigError("training.loss", f"{config.name}: {error}") from None
    try:
        loss = keras.losses.get(config.name)
    except ValueError:
        known = [n for n in dir(keras.losses) if n.islower() and not n.startswith("_")] + list(
            _losses
        )
        raise ConfigError(
            "training.loss.name", f"unknown loss '{config.name}'{did_you_mean(config.name, known)}"
        ) from None
    if options:
        raise ConfigError("training.loss", f"{config.name} takes no options {sorted(options)}")
    return loss


def _is_keras_metric(name: str) -> bool:
    """Whether ``compile`` knows the metric ``name``, looked up without creating the metric:
    a metric object creates variables, which starts TensorFlow's runtime, and a
    MultiWorkerMirroredStrategy can only be created before that."""
    if name in ("accuracy", "acc", "crossentropy", "ce"):  # compile's own aliases
        return True
    try:
        from keras.src.metrics import ALL_OBJECTS_DICT  # the table keras.metrics.get reads
    except ImportError:  # pragma: no cover - a Keras without that table
        try:
            keras.metrics.get(name)
        except ValueError:
            return False
        return True
    return name in ALL_OBJECTS_DICT


def build_metrics(names: list[str], metadata: dict[str, Any]) -> list[Any]:
    import_objective_modules()
    metrics = []
    for index, name in enumerate(names):
        if name in _metrics:
            metrics.append(_call_with_metadata(_metrics[name], metadata))
            continue
        if not _is_keras_metric(name):
            # compile() also takes "accuracy", which picks the right accuracy for the loss
            known = (
                [n for n in dir(keras.metrics) if n.islower() and not n.startswith("_")]
                + list(_metrics)
                + ["accuracy"]
            )
            raise ConfigError(
                f"training.metrics.{index}", f"unknown metric '{name}'{did_you_mean(name, known)}"
            ) from None
        metrics.append(name)
    return metrics


def check_names(loss: LossConfig | None, metrics: list[str]) -> None:
    """Checks loss and metric names (and Keras loss options) without the data's metadata, so
    ``load_config`` reports a typo before anything is built. Project objectives, whose
    factories may need metadata, are only looked up by name."""
    import_objective_modules()
    if loss is not None and loss.name not in _losses:
        build_loss(loss, {})
    for index, name in enumerate(metrics):
        if name not in _metrics:
            try:
                build_metrics([name], {})
            except ConfigError as error:  # keep the metric's index in the field path
                raise ConfigError(f"training.metrics.{index}", error.message) from None


def steps_per_epoch(num_examples: int | None, batch_size: int, dataset=None) -> int:
    if num_examples is not None:
        return max(1, math.ceil(num_examples / batch_size))
    return max(1, sum(1 for _ in dataset)) if dataset is not None else 1
