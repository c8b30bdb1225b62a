"""From a model's outputs to class ids, the confusion matrix, and the overlap read off it.

Shared by the segmentation metrics (``objectives/segmentation.py``) and the classification
and segmentation reports, so that a metric logged in training and a figure in
``metrics.json`` are the same computation.

A prediction with several channels names the arg-max class; one channel is P(class 1) (or a
logit, or a Heaviside bit) and names class 1 when it exceeds ``threshold``, as Keras'
``BinaryAccuracy`` does. The confusion matrix M counts examples (or pixels) of true class i
predicted as j in M[i, j]; for class c, with |T_c| = Σ_j M_cj and |P_c| = Σ_i M_ic,

    IoU_c  = M_cc / (|T_c| + |P_c| − M_cc)
    Dice_c = 2 M_cc / (|T_c| + |P_c|)

A class in neither the truth nor the prediction has no score (``present`` is False there).
"""

from __future__ import annotations

import numpy as np
from keras import ops


def predicted_classes(outputs, threshold: float = 0.5):
    """Class ids over the last axis: its arg max, or ``outputs[..., 0] > threshold`` when it
    has one channel. Takes arrays or tensors (keras.ops), returns a tensor."""
    if outputs.shape[-1] == 1:
        return ops.cast(ops.greater(outputs[..., 0], threshold), "int32")
    return ops.argmax(outputs, axis=-1)


def confusion_matrix(truth, predicted, num_classes: int) -> np.ndarray:
    """``(C, C)`` counts, row = true class, column = predicted class, of integer labels of any
    (equal) shape."""
    truth = np.asarray(truth).reshape(-1).astype(np.int64)
    predicted = np.asarray(predicted).reshape(-1).astype(np.int64)
    counts = np.bincount(truth * num_classes + predicted, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def overlap_scores(confusion, dtype: str = "float32"):
    """(IoU, Dice, present) per class from a confusion matrix, as tensors of ``dtype``; the
    scores of an absent class are 0."""
    matrix = ops.cast(confusion, dtype)
    true_positives = ops.diagonal(matrix)
    sizes = ops.sum(matrix, axis=0) + ops.sum(matrix, axis=1)  # |P_c| + |T_c|
    present = ops.greater(sizes, 0)
    safe = ops.where(present, sizes, ops.ones_like(sizes))
    iou = ops.where(present, true_positives / (safe - true_positives), ops.zeros_like(sizes))
    dice = ops.where(present, 2 * true_positives / safe, ops.zeros_like(sizes))
    return iou, dice, present
