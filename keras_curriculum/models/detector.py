"""A one-stage detector (YOLO / SSD / RetinaNet in miniature) and the sliding-window baseline.

The idea (notes 002 §6): instead of classifying every window of the image (the *sliding
window* detector, :func:`sliding_window_classifier`, one network evaluation per window and
scale), run the backbone once and let every cell of its feature grid predict, for each of its
A anchor boxes a_i, class scores and a box offset:

    s_i,c = σ(head_cls(f)_i,c),       t_i = head_box(f)_i = (ty, tx, th, tw),
    box_i = (a_cy + ty·a_h·v, a_cx + tx·a_w·v, a_h·exp(th·v'), a_w·exp(tw·v'))

(the box coding of Faster R-CNN / SSD, variances v = 0.1, v' = 0.2). Anchors come from KerasHub's
``AnchorGenerator`` (one pyramid level, stride 2^level); the coding from
``keras.utils.bounding_boxes.encode_box_to_deltas`` / ``decode_deltas_to_boxes``.

Training (``compute_loss``) matches anchors to true boxes by IoU: an anchor is positive for the
box it overlaps with IoU ≥ ``positive_iou`` (and every true box claims its best anchor, as in
SSD), negative below ``negative_iou``, ignored in between. The loss is the focal loss
(RetinaNet; γ = 0 gives plain binary cross-entropy) over positive and negative anchors plus
smooth L1 on the positive anchors' offsets, both divided by the number of positives.

Inference (:meth:`Detector.detect`) decodes every anchor's box, and non-maximum suppression
(KerasHub's ``NonMaxSuppression``) keeps, among boxes that overlap with IoU above a threshold,
only the highest-scoring one. Boxes are ``rel_xyxy`` throughout (fractions of the image);
targets are ``{"boxes": (N, 4), "labels": (N,)}`` padded with −1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops
from keras.utils import bounding_boxes

from keras_curriculum.models.base import RenamedArguments
from keras_curriculum.models.localization import OwnMetrics, backbone, conv_block
from keras_curriculum.registry import register_model

VARIANCE = (0.1, 0.1, 0.2, 0.2)


def pixel_scale(shape: Sequence[int]):
    height, width = shape[:2]
    return np.array([width, height, width, height], np.float32)


@register_model("detector")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class Detector(OwnMetrics, RenamedArguments, keras.Model):
    """One-stage anchor detector: a conv backbone to stride 2^``level``, per cell and anchor
    class logits and box offsets; focal + smooth-L1 loss; NMS at inference (``detect``).

    x → backbone (stride 2^level) → per cell and anchor: class logits and box offsets.

    Args:
        input_shape: ``(H, W, C)`` of the images.
        num_classes: Number of object classes (no background class: all scores low = none).
        filters: Filters of each conv block; the first ``level`` blocks halve the resolution.
        level: The grid's stride is 2^level pixels (3: an 8-pixel grid).
        anchor_size: Anchor side in multiples of the stride (KerasHub's ``anchor_size``).
        num_scales: Anchor scales per cell (2^(i / num_scales) × the base size).
        aspect_ratios: Anchor width : height ratios per cell.
        positive_iou: IoU from which an anchor is trained to detect a box.
        negative_iou: IoU below which an anchor is trained as background (between: ignored).
        focal_gamma: The focal loss' γ (0: binary cross-entropy).
        box_weight: Weight of the smooth-L1 box term.
        score_threshold: Minimum class probability kept at inference.
        nms_iou: IoU above which non-maximum suppression drops the lower-scoring box.
        max_detections: Detections kept per image.
        batch_norm_momentum: Momentum of the backbone's BatchNorm statistics.
        name: The model's name.
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int],
        num_classes: int,
        filters: Sequence[int] = (16, 32, 64),
        level: int = 3,
        anchor_size: float = 3.0,
        num_scales: int = 2,
        aspect_ratios: Sequence[float] = (1.0,),
        positive_iou: float = 0.5,
        negative_iou: float = 0.4,
        focal_gamma: float = 2.0,
        box_weight: float = 1.0,
        score_threshold: float = 0.3,
        nms_iou: float = 0.5,
        max_detections: int = 100,
        batch_norm_momentum: float = 0.9,
        name: str = "detector",
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        import keras_hub  # imported here: it takes seconds, and only detectors need it

        self.hyperparameters = dict(
            input_shape=[int(d) for d in input_shape],
            num_classes=int(num_classes),
            filters=[int(f) for f in filters],
            level=int(level),
            anchor_size=float(anchor_size),
            num_scales=int(num_scales),
            aspect_ratios=[float(a) for a in aspect_ratios],
            positive_iou=float(positive_iou),
            negative_iou=float(negative_iou),
            focal_gamma=float(focal_gamma),
            box_weight=float(box_weight),
            score_threshold=float(score_threshold),
            nms_iou=float(nms_iou),
            max_detections=int(max_detections),
            batch_norm_momentum=float(batch_norm_momentum),
        )
        if len(filters) < level:
            raise ValueError(f"a stride of 2^{level} needs at least {level} conv blocks")
        self.num_classes = int(num_classes)
        self.image_size = pixel_scale(input_shape)
        generator = keras_hub.layers.AnchorGenerator(
            "xyxy",
            min_level=level,
            max_level=level,
            num_scales=num_scales,
            aspect_ratios=list(aspect_ratios),
            anchor_size=anchor_size,
        )
        anchors = generator(np.zeros((1, *input_shape), np.float32))[f"P{level}"]
        self.anchors = ops.convert_to_numpy(anchors).astype(np.float32)  # pixels, xyxy
        per_cell = num_scales * len(aspect_ratios)

        inputs = keras.Input(shape=tuple(input_shape), name="inputs")
        # Blocks beyond the stride's ``level`` keep the grid's resolution.
        features = backbone(inputs, filters[:level], momentum=batch_norm_momentum)
        for index, width in enumerate(filters[level:], start=level + 1):
            features = conv_block(
                features, width, f"block{index}", pool=False, momentum=batch_norm_momentum
            )
        grid_cells = -1
        scores = keras.layers.Conv2D(
            per_cell * num_classes,
            3,
            padding="same",
            # RetinaNet's prior: every anchor starts at p = 0.01 of being an object, so the
            # many background anchors do not swamp the first steps.
            bias_initializer=keras.initializers.Constant(-np.log(99.0)),
            name="class_logits_conv",
        )(features)
        deltas = keras.layers.Conv2D(per_cell * 4, 3, padding="same", name="box_deltas_conv")(
            features
        )
        outputs = {
            "scores": keras.layers.Reshape((grid_cells, num_classes), name="class_logits")(scores),
            "deltas": keras.layers.Reshape((grid_cells, 4), name="box_deltas")(deltas),
        }
        self.network = keras.Model(inputs, outputs, name="network")
        self.focal = keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=False, gamma=focal_gamma, from_logits=True, reduction=None
        )
        self.nms = keras_hub.layers.NonMaxSuppression(
            "xyxy",
            from_logits=True,
            iou_threshold=nms_iou,
            confidence_threshold=score_threshold,
            max_detections=max_detections,
        )
        self.class_loss_tracker = keras.metrics.Mean(name="class_loss")
        self.box_loss_tracker = keras.metrics.Mean(name="box_loss")
        self.positives_tracker = keras.metrics.Mean(name="positive_anchors")
        self.built = True

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    # -- training ----------------------------------------------------------------------------

    def match(self, boxes, labels):
        """For each image and anchor: the matched true box (pixels, xyxy), its class, and
        whether the anchor is positive (1), negative (0) or ignored (−1)."""
        hp = self.hyperparameters
        valid = ops.cast(labels >= 0, "float32")  # (B, N)
        pixel_boxes = ops.cast(boxes, "float32") * self.image_size
        anchors = ops.broadcast_to(
            ops.convert_to_tensor(self.anchors), (ops.shape(boxes)[0], *self.anchors.shape)
        )
        iou = bounding_boxes.compute_iou(anchors, pixel_boxes, "xyxy")  # (B, A, N)
        iou = iou * valid[:, None, :] - (1.0 - valid[:, None, :])  # padding never matches
        # Every true box claims the anchor it overlaps most (SSD's rule), even below the
        # threshold, so no object goes unlearned.
        best_anchor = ops.one_hot(ops.argmax(iou, axis=1), ops.shape(iou)[1], axis=1)
        claimed = best_anchor * valid[:, None, :]  # (B, A, N)
        iou = ops.where(claimed > 0, 2.0, iou)
        matched = ops.argmax(iou, axis=-1)  # (B, A)
        best = ops.max(iou, axis=-1)
        state = ops.where(
            best >= hp["positive_iou"], 1, ops.where(best < hp["negative_iou"], 0, -1)
        )
        matched_boxes = ops.take_along_axis(pixel_boxes, matched[..., None], axis=1)
        matched_labels = ops.take_along_axis(ops.cast(labels, "int32"), matched, axis=1)
        return matched_boxes, matched_labels, state

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Focal loss over positive and negative anchors + ``box_weight`` × smooth L1 of the
        positive anchors' offsets, both per positive anchor."""
        matched_boxes, matched_labels, state = self.match(y["boxes"], y["labels"])
        positive = ops.cast(state == 1, "float32")
        counted = ops.cast(state >= 0, "float32")
        num_positive = ops.maximum(ops.sum(positive), 1.0)
        one_hot = ops.one_hot(matched_labels, self.num_classes) * positive[..., None]
        logits = ops.cast(y_pred["scores"], "float32")
        focal = self.focal(one_hot[..., None], logits[..., None])  # (B, A, C)
        class_loss = ops.sum(ops.sum(focal, axis=-1) * counted) / num_positive
        anchors = ops.broadcast_to(ops.convert_to_tensor(self.anchors), ops.shape(matched_boxes))
        targets = bounding_boxes.encode_box_to_deltas(
            anchors, matched_boxes, anchor_format="xyxy", box_format="xyxy", variance=VARIANCE
        )
        deltas = ops.cast(y_pred["deltas"], "float32")
        smooth_l1 = ops.sum(keras.losses.huber(targets[..., None], deltas[..., None]), axis=-1)
        box_loss = ops.sum(smooth_l1 * positive) / num_positive
        self.class_loss_tracker.update_state(class_loss)
        self.box_loss_tracker.update_state(box_loss)
        self.positives_tracker.update_state(
            ops.sum(positive) / ops.cast(ops.shape(positive)[0], "float32")
        )
        return class_loss + self.hyperparameters["box_weight"] * box_loss

    # -- inference ---------------------------------------------------------------------------

    def decode(self, outputs):
        """Network outputs → every anchor's box (pixels, ``xyxy``) and class logits."""
        deltas = ops.cast(outputs["deltas"], "float32")
        anchors = ops.broadcast_to(ops.convert_to_tensor(self.anchors), ops.shape(deltas))
        boxes = bounding_boxes.decode_deltas_to_boxes(
            anchors, deltas, anchor_format="xyxy", box_format="xyxy", variance=VARIANCE
        )
        return ops.clip(boxes, 0.0, self.image_size), ops.cast(outputs["scores"], "float32")

    def detect(self, images, batch_size: int = 64) -> dict[str, np.ndarray]:
        """Boxes (``rel_xyxy``), scores, labels and counts after non-maximum suppression,
        padded with −1 to ``max_detections`` per image."""
        results: dict[str, list] = {}
        for start in range(0, len(images), batch_size):
            boxes, logits = self.decode(self(images[start : start + batch_size], training=False))
            kept = self.nms(boxes, logits)
            for key in ("boxes", "confidence", "labels", "num_detections"):
                results.setdefault(key, []).append(ops.convert_to_numpy(kept[key]))
        out = {key: np.concatenate(value) for key, value in results.items()}
        found = out["labels"] >= 0
        out["boxes"] = np.where(found[..., None], out["boxes"] / self.image_size, -1.0)
        return {
            "boxes": out["boxes"],
            "scores": out["confidence"],
            "labels": out["labels"],
            "num_detections": out["num_detections"],
        }

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.hyperparameters}


def sliding_window_detect(
    classifier: keras.Model,
    images: np.ndarray,
    *,
    window_sizes: Sequence[int],
    stride: int,
    score_threshold: float = 0.5,
    nms_iou: float = 0.5,
    max_detections: int = 100,
) -> dict[str, np.ndarray]:
    """The naive detector the notes start from: crop every ``stride``-spaced square window of
    every size, resize it to the classifier's input, classify it (the classifier's last class
    is *background*), keep windows whose best object class scores ≥ ``score_threshold``, then
    non-maximum suppression (KerasHub). One classifier evaluation per window and image.

    Returns what :meth:`Detector.detect` returns (``rel_xyxy`` boxes, −1 padded).
    """
    import keras_hub

    height, width = images.shape[1:3]
    window_shape = tuple(classifier.inputs[0].shape[1:3])
    boxes = [
        (left, top, left + size, top + size)
        for size in window_sizes
        for top in range(0, height - size + 1, stride)
        for left in range(0, width - size + 1, stride)
    ]
    pixel_boxes = np.array(boxes, np.float32)
    all_scores = []
    for image in images:
        crops = [
            ops.image.resize(image[None, top:bottom, left:right], window_shape)
            for left, top, right, bottom in boxes
        ]
        probabilities = classifier.predict(ops.concatenate(crops), verbose=0, batch_size=512)
        all_scores.append(probabilities[:, :-1])  # drop the background column
    scores = np.stack(all_scores)
    nms = keras_hub.layers.NonMaxSuppression(
        "xyxy",
        from_logits=False,
        iou_threshold=nms_iou,
        confidence_threshold=score_threshold,
        max_detections=max_detections,
    )
    kept = nms(np.broadcast_to(pixel_boxes, (len(images), *pixel_boxes.shape)), scores)
    labels = ops.convert_to_numpy(kept["labels"])
    found = labels >= 0
    return {
        "boxes": np.where(
            found[..., None],
            ops.convert_to_numpy(kept["boxes"]) / pixel_scale(images.shape[1:]),
            -1.0,
        ),
        "scores": ops.convert_to_numpy(kept["confidence"]),
        "labels": labels,
        "num_detections": ops.convert_to_numpy(kept["num_detections"]),
    }
