"""Box losses and metrics for localization and detection (notes 002 §5–6).

A predicted box is compared with its true box, both ``rel_xyxy`` (fractions of the image):

* smooth L1 (Fast R-CNN): per coordinate ½d²/β when |d| < β, else |d| − ½β — Keras'
  ``Huber`` loss with ``delta = β``;
* the complete-IoU loss 1 − CIoU (Zheng et al. 2020), CIoU = IoU − ρ²/c² − αv, from
  ``keras.utils.bounding_boxes.compute_ciou``; unlike smooth L1 it is scale invariant and
  still has a gradient when the boxes do not overlap;
* IoU = |A ∩ B| / |A ∪ B| (``keras.utils.bounding_boxes.compute_iou``), averaged over the
  examples, is the localization metric (``box_mean_iou``).

Boxes are never converted or intersected by hand: Keras' bounding-box utilities do it. The
functions live with the model that teaches them (models/localization.py); this module lists
them for configs (``loss: smooth_l1`` / ``ciou`` on a box output, metric ``box_mean_iou``).
"""

from __future__ import annotations

import keras

from keras_curriculum.models.localization import BoxLoss, box_loss, paired_iou


def box_mean_iou(name: str = "box_mean_iou") -> keras.metrics.Metric:
    """The mean IoU of predicted and true boxes (``rel_xyxy``)."""
    return keras.metrics.MeanMetricWrapper(fn=paired_iou, name=name)


def smooth_l1_loss(*, beta: float = 0.05):
    """Smooth L1 per box, summed over its 4 coordinates (β in image fractions)."""
    return box_loss("smooth_l1", beta=beta)


def ciou_loss():
    """1 − complete IoU per box."""
    return box_loss("ciou")


__all__ = ["BoxLoss", "box_mean_iou", "ciou_loss", "paired_iou", "smooth_l1_loss"]
