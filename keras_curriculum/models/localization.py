"""Classification + localization: one backbone, a class head and a 4-number box head.

The idea (notes 002 §5, "classification + localization"): a network that says *what* the one
object in the image is can also say *where* it is by regressing its box from the same
features. The backbone's features feed two heads:

    p(c | x) = softmax(W_c · GAP(f(x)))                      the class head (CAM-able: GAP → Dense)
    b(x) = (cx, cy, w, h) = sigmoid(W_b · flatten(r(f(x))))   the box head, fractions of the image

and the loss adds the two tasks, with a weight λ on the box term:

    L = CE(y, p) + λ · L_box(b, b*),     L_box = smooth L1 or 1 − CIoU  (objectives/detection.py).

The class head sees globally pooled features (position does not matter for *what*); the box
head sees the flattened map, which keeps *where*, after a 1×1 convolution r to a few maps (see
:func:`box_head`). The box is predicted as a centre and a size in (0, 1) and converted to
``rel_xyxy`` with ``keras.utils.bounding_boxes.convert_format``, so every prediction is a
valid box. Targets are ``{"class": label, "box": rel_xyxy}`` (the
``object_canvases`` dataset with ``task: localization``); reported as accuracy and the mean
IoU of predicted and true boxes. The two-term loss is the model's own ``compute_loss``, so
the shared trainer runs it with ``training.loss: null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
from keras import ops
from keras.utils import bounding_boxes

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.layers import output_layer
from keras_curriculum.registry import register_model

BoxLoss = Literal["smooth_l1", "ciou"]
FORMAT = "rel_xyxy"


def absolute(bounding_box_format: str) -> str:
    """The absolute name of a relative format: IoU is unchanged by scaling each axis, so
    fractions of the image can be intersected as if they were pixels (Keras' compute_ciou
    refuses relative formats outright)."""
    return bounding_box_format.removeprefix("rel_")


def paired_iou(y_true, y_pred, bounding_box_format: str = FORMAT):
    """IoU of each true box with the predicted box at the same index: ``(..., 4) → (...)``."""
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    flat_true = ops.reshape(y_true, (-1, 1, 4))
    flat_pred = ops.reshape(y_pred, (-1, 1, 4))
    # compute_iou is pairwise; one box against one box per row gives the paired values.
    iou = bounding_boxes.compute_iou(flat_true, flat_pred, absolute(bounding_box_format))
    return ops.reshape(iou, ops.shape(y_true)[:-1])


def box_loss(kind: BoxLoss = "smooth_l1", *, beta: float = 0.05):
    """``loss(y_true, y_pred) → (...)`` per box: smooth L1 summed over the 4 coordinates
    (β in image fractions) or 1 − CIoU."""
    if kind == "smooth_l1":

        def smooth_l1(y_true, y_pred):
            y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
            # Huber is ½d² below δ and δ(|d| − ½δ) above; ÷β gives smooth L1's scale.
            per_coordinate = keras.losses.huber(y_true[..., None], y_pred[..., None], delta=beta)
            return ops.sum(per_coordinate, axis=-1) / beta

        return smooth_l1
    if kind == "ciou":

        def ciou_loss(y_true, y_pred):
            y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
            return 1.0 - bounding_boxes.compute_ciou(y_true, y_pred, absolute(FORMAT))

        return ciou_loss
    raise ValueError(f"unknown box loss {kind!r}: expected smooth_l1 or ciou")


def conv_block(x, filters: int, name: str, *, pool: bool = True, momentum: float = 0.9):
    """Conv 3×3 → BN → ReLU, twice, then 2×2 max pooling; layers named ``{name}_…``.

    ``momentum`` is BatchNorm's for its moving statistics: Keras' 0.99 averages over the last
    ~100 steps, more than one epoch of a few thousand canvases, while the weights still move
    fast, so inference used statistics of weights long gone (a CAM classifier of canvases
    scored 9–16 % on validation for its first 7 of 10 epochs while it trained at 37–83 %)."""
    for index in (1, 2):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=False, name=f"{name}_conv{index}"
        )(x)
        x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_bn{index}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{index}")(x)
    if pool:
        x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return x


def backbone(inputs, filters: Sequence[int], *, pool_last: bool = True, momentum: float = 0.9):
    """``len(filters)`` conv blocks; every block halves the resolution (the last one only
    when ``pool_last``)."""
    x = inputs
    for index, width in enumerate(filters, start=1):
        last = index == len(filters)
        x = conv_block(
            x, int(width), f"block{index}", pool=pool_last or not last, momentum=momentum
        )
    return x


def box_head(features, hidden_units: int, channels: int, name: str = "box", momentum: float = 0.9):
    """1×1 conv to ``channels`` maps → flatten → Dense → (cx, cy, w, h) in (0, 1) → rel_xyxy.

    The 1×1 reduction keeps *where* (one value per cell and channel) but shrinks the Dense
    layer's fan-in: on the 6×6×64 map flattened whole (2,304 inputs), the first Adam steps moved
    every input weight at once and pushed the sigmoid into saturation (cy → 1, h → 0, where an
    L1 loss has no gradient left on h); the mean IoU stayed at 0.001. Reduced to 8 maps (288
    inputs) it reached 0.61 on the training canvases within 4 epochs of 1,000."""
    x = keras.layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_reduce_conv")(features)
    x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_reduce_bn")(x)
    x = keras.layers.ReLU(name=f"{name}_reduce_relu")(x)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    x = keras.layers.Dense(hidden_units, activation="relu", name=f"{name}_hidden")(x)
    centre_size = keras.layers.Dense(
        4, activation="sigmoid", dtype="float32", name=f"{name}_cxcywh"
    )(x)
    return keras.layers.Lambda(
        lambda b: bounding_boxes.convert_format(b, "center_xywh", "xyxy"),
        output_shape=(4,),
        name=name,
    )(centre_size)


class OwnMetrics:
    """A model whose targets are not its outputs (a box dict against class scores and box
    offsets): it tracks its own metrics, so compiled metrics cannot apply."""

    def compile(self, *args: Any, metrics: Any = None, **kwargs: Any) -> None:
        if metrics:
            raise ConfigError(
                "training.metrics",
                f"{type(self).__name__} reports its own metrics; set metrics: [] (got {metrics})",
            )
        super().compile(*args, **kwargs)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class Localizer(OwnMetrics, keras.Model):
    """x → backbone → {"class": softmax probabilities, "box": rel_xyxy}; trains on
    CE + ``box_weight`` · box loss and tracks accuracy and mean IoU."""

    def __init__(
        self,
        *,
        data_shape: Sequence[int],
        num_classes: int,
        filters: Sequence[int] = (16, 32, 64, 64),
        box_hidden_units: int = 128,
        box_channels: int = 8,
        box_loss_name: BoxLoss = "smooth_l1",
        box_weight: float = 1.0,
        batch_norm_momentum: float = 0.9,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.hyperparameters = dict(
            data_shape=[int(d) for d in data_shape],
            num_classes=int(num_classes),
            filters=[int(f) for f in filters],
            box_hidden_units=int(box_hidden_units),
            box_channels=int(box_channels),
            box_loss_name=box_loss_name,
            box_weight=float(box_weight),
            batch_norm_momentum=float(batch_norm_momentum),
        )
        inputs = keras.Input(shape=tuple(data_shape), name="inputs")
        features = backbone(inputs, filters, momentum=batch_norm_momentum)
        pooled = keras.layers.GlobalAveragePooling2D(name="gap")(features)
        classes = output_layer(num_classes, "softmax", name="class")(pooled)
        boxes = box_head(features, box_hidden_units, box_channels, momentum=batch_norm_momentum)
        self.network = keras.Model(inputs, {"class": classes, "box": boxes}, name="network")
        self.box_loss = box_loss(box_loss_name)
        self.box_weight = float(box_weight)
        self.class_loss_tracker = keras.metrics.Mean(name="class_loss")
        self.box_loss_tracker = keras.metrics.Mean(name="box_loss")
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.iou_metric = keras.metrics.MeanMetricWrapper(fn=paired_iou, name="mean_iou")
        self.built = True

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CE of the class + ``box_weight`` × the box loss, both averaged over the batch."""
        class_loss = ops.mean(
            keras.losses.sparse_categorical_crossentropy(y["class"], y_pred["class"])
        )
        boxes = ops.mean(self.box_loss(y["box"], y_pred["box"]))
        self.class_loss_tracker.update_state(class_loss)
        self.box_loss_tracker.update_state(boxes)
        return class_loss + self.box_weight * boxes + sum(self.losses)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.accuracy_metric.update_state(y["class"], y_pred["class"])
        self.iou_metric.update_state(y["box"], y_pred["box"])
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.hyperparameters}


@register_model("localizer")
def localizer(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    filters: Sequence[int] = (16, 32, 64, 64),
    box_hidden_units: int = 128,
    box_channels: int = 8,
    box_loss: BoxLoss = "smooth_l1",
    box_weight: float = 1.0,
    batch_norm_momentum: float = 0.9,
) -> keras.Model:
    """Classification + localization: a conv backbone, a GAP → softmax class head and a
    flatten → Dense → sigmoid box head; loss CE + ``box_weight`` · box loss.

    Args:
        input_shape: ``(H, W, C)`` of the images.
        num_classes: Number of object classes.
        filters: Filters of each conv block (two 3×3 convs + 2×2 max pooling each).
        box_hidden_units: Width of the box head's hidden Dense layer.
        box_channels: Maps the box head's 1×1 convolution reduces the features to.
        box_loss: ``smooth_l1`` or ``ciou`` (1 − complete IoU).
        box_weight: λ, the box loss' weight against the cross-entropy.
        batch_norm_momentum: Momentum of every BatchNorm's moving statistics.
    """
    return Localizer(
        data_shape=input_shape,
        num_classes=num_classes,
        filters=filters,
        box_hidden_units=box_hidden_units,
        box_channels=box_channels,
        box_loss_name=box_loss,
        box_weight=box_weight,
        batch_norm_momentum=batch_norm_momentum,
        name="localizer",
    )
