"""Optimizers, learning-rate schedules, losses and metrics, built from the config.

Project-specific losses and metrics (a Dice loss, a per-class IoU) live in this package's
modules, one per task (``segmentation.py``), and are listed by config name below.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import keras

from keras_curriculum.config import LossConfig, OptimizerConfig, ScheduleConfig
from keras_curriculum.errors import ConfigError, did_you_mean
from keras_curriculum.objectives import classification, detection, segmentation

# The project's own losses and metrics by config name; their factories may take fields of the
# data's metadata (``num_classes``, …) by name. A new one is one line here.
_losses: dict[str, Callable[..., Any]] = {
    "smoothed_sparse_categorical_crossentropy": classification.smoothed_sparse_crossentropy,
    "dice": segmentation.dice_loss,
    "crossentropy_dice": segmentation.crossentropy_dice_loss,
    "smooth_l1": detection.smooth_l1_loss,
    "ciou": detection.ciou_loss,
}
_metrics: dict[str, Callable[..., Any]] = {
    "mean_iou": segmentation.mean_iou,
    "foreground_iou": segmentation.foreground_iou,
    "foreground_dice": segmentation.foreground_dice,
    "box_mean_iou": detection.box_mean_iou,
}


def _call_with_metadata(factory: Callable[..., Any], metadata: dict[str, Any], **kwargs: Any):
    parameters = inspect.signature(factory).parameters
    return factory(**{k: v for k, v in metadata.items() if k in parameters}, **kwargs)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class PowerDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The power schedule α_t = α₀·(1 + t/T)^(−c) (001 §16.1.3): the rate falls fast at first,
    then ever more slowly; after T steps it is α₀/2^c. c = 1 is Keras' ``InverseTimeDecay``."""

    def __init__(self, initial_learning_rate: float, decay_steps: float, power: float = 1.0):
        super().__init__()
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.power = power

    def __call__(self, step):
        t = keras.ops.cast(step, "float32")
        return self.initial_learning_rate * keras.ops.power(
            1.0 + t / float(self.decay_steps), -float(self.power)
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "power": self.power,
        }


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
    if schedule.name == "power":
        return PowerDecay(
            rate,
            decay_steps=max(1.0, schedule.decay_epochs * steps_per_epoch),
            power=schedule.power,
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
    if name in ("accuracy", "acc", "crossentropy", "ce", "mse", "mae", "mape", "msle"):
        return True  # compile's and Keras' own aliases
    # keras.metrics exports each metric's function (snake_case) and class (CamelCase) by name.
    public = {n.lower() for n in dir(keras.metrics) if not n.startswith("_")}
    public -= {"get", "serialize", "deserialize", "metric", "meanmetricwrapper"}
    return name.lower() in public or name.replace("_", "").lower() in public


def build_metrics(names: list[str], metadata: dict[str, Any]) -> list[Any]:
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
