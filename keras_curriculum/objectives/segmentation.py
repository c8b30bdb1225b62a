"""Losses and metrics for semantic segmentation, by config name.

Targets are integer class masks ``(H, W)`` (0 = background); predictions are either a softmax
over C channels ``(H, W, C)`` or one sigmoid channel ``(H, W, 1)`` = P(class 1) for a binary
mask, thresholded at 0.5. Every loss and metric here accepts both.

Overlap of a predicted region P with the true region T (notes 002 §4):

    IoU(P, T)  = |P ∩ T| / |P ∪ T|
    Dice(P, T) = 2 |P ∩ T| / (|P| + |T|) = 2 IoU / (1 + IoU)

The metrics accumulate a confusion matrix over every pixel of the split (Keras' ``IoU``), so
a class's IoU is computed over the whole split, not averaged over images. The Dice *loss* is
the soft version, with probabilities in place of the 0/1 prediction, averaged over classes::

    L_dice = 1 − mean_c (2 Σ p_c·y_c + s) / (Σ p_c + Σ y_c + s)        (s = 1 smooths empty masks)

Config names: losses ``dice`` and ``crossentropy_dice`` (cross-entropy + Dice; Keras'
``sparse_categorical_crossentropy`` / ``binary_crossentropy`` work as they are); metrics
``mean_iou`` (all classes), ``foreground_iou`` and ``foreground_dice`` (mean over the classes
other than background 0; for a binary mask, the foreground's own IoU / Dice).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_curriculum.objectives.confusion import overlap_scores, predicted_classes


def _class_mask(y_true, y_pred):
    """The integer target reshaped to the prediction's (batch, H, W)."""
    return ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])


@keras.saving.register_keras_serializable(package="keras_curriculum")
class SegmentationOverlap(keras.metrics.IoU):
    """IoU (or Dice) of ``class_ids``, averaged over those classes, from a confusion matrix
    accumulated over every pixel. Takes softmax or single-sigmoid-channel predictions."""

    def __init__(
        self,
        num_classes: int,
        class_ids: Sequence[int] | None = None,
        kind: str = "iou",
        threshold: float = 0.5,
        name: str | None = None,
        dtype=None,
    ):
        class_ids = list(range(num_classes)) if class_ids is None else list(class_ids)
        super().__init__(
            num_classes=num_classes,
            target_class_ids=class_ids,
            name=name or kind,
            dtype=dtype,
            sparse_y_true=True,
            sparse_y_pred=True,
        )
        if kind not in ("iou", "dice"):
            raise ValueError(f"kind must be 'iou' or 'dice', got {kind!r}")
        self.kind = kind
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(
            _class_mask(y_true, y_pred), predicted_classes(y_pred, self.threshold), sample_weight
        )

    def result(self):
        iou, dice, present = overlap_scores(self.total_cm)
        ids = ops.convert_to_tensor(self.target_class_ids, dtype="int32")
        scores = ops.take(iou if self.kind == "iou" else dice, ids)
        present = ops.cast(ops.take(present, ids), "float32")
        return ops.sum(scores * present) / ops.maximum(ops.sum(present), 1.0)

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "class_ids": list(self.target_class_ids),
            "kind": self.kind,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


def _foreground(num_classes: int) -> list[int]:
    return list(range(1, num_classes)) if num_classes > 1 else [0]


def mean_iou(num_classes: int) -> SegmentationOverlap:
    return SegmentationOverlap(num_classes, kind="iou", name="mean_iou")


def foreground_iou(num_classes: int) -> SegmentationOverlap:
    return SegmentationOverlap(
        num_classes, _foreground(num_classes), kind="iou", name="foreground_iou"
    )


def foreground_dice(num_classes: int) -> SegmentationOverlap:
    return SegmentationOverlap(
        num_classes, _foreground(num_classes), kind="dice", name="foreground_dice"
    )


@keras.saving.register_keras_serializable(package="keras_curriculum")
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss per image, plus ``crossentropy_weight`` × the pixel cross-entropy."""

    def __init__(
        self, smooth: float = 1.0, crossentropy_weight: float = 0.0, name: str = "dice", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.smooth = smooth
        self.crossentropy_weight = crossentropy_weight

    def call(self, y_true, y_pred):
        mask = _class_mask(y_true, y_pred)
        if y_pred.shape[-1] == 1:  # one sigmoid channel: the foreground's probability
            target = ops.cast(mask, y_pred.dtype)[..., None]
            probability = y_pred
        else:
            target = ops.one_hot(mask, y_pred.shape[-1], dtype=y_pred.dtype)
            probability = y_pred
        pixels = (1, 2)  # sum over the image, keep batch and class
        intersection = ops.sum(target * probability, axis=pixels)
        total = ops.sum(target, axis=pixels) + ops.sum(probability, axis=pixels)
        dice = (2 * intersection + self.smooth) / (total + self.smooth)
        loss = 1 - ops.mean(dice, axis=-1)
        if self.crossentropy_weight:
            if y_pred.shape[-1] == 1:
                crossentropy = keras.losses.binary_crossentropy(target, probability)
            else:
                crossentropy = keras.losses.sparse_categorical_crossentropy(mask, probability)
            loss = loss + self.crossentropy_weight * ops.mean(crossentropy, axis=(1, 2))
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "smooth": self.smooth,
            "crossentropy_weight": self.crossentropy_weight,
        }


def dice_loss() -> DiceLoss:
    return DiceLoss(name="dice")


def crossentropy_dice_loss() -> DiceLoss:
    return DiceLoss(crossentropy_weight=1.0, name="crossentropy_dice")
