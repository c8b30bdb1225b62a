"""Detection scores the COCO way, computed by ``pycocotools`` (never re-implemented here).

Average precision (notes 002 §6): sort a class' detections by score; walking down the list,
precision = TP / (TP + FP) and recall = TP / (number of true boxes), where a detection is a
true positive if it overlaps a not-yet-matched true box of its class with IoU ≥ t. AP is the
area under the (interpolated, 101-point) precision–recall curve; mAP@0.5 averages it over the
classes at t = 0.5, and COCO's mAP@[.5:.95] also over t = 0.50, 0.55, …, 0.95.

Boxes come in ``rel_xyxy`` (fractions of the image) with −1 padding, as the datasets and
:class:`~keras_curriculum.models.detector.Detector` give them; they are converted to COCO's
pixel ``[x, y, width, height]`` with ``keras.utils.bounding_boxes.convert_format``.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np


@dataclass
class DetectionScores:
    """mAP@0.5, mAP@[.5:.95], mAP@0.75, and the precision at each of the 101 recall points
    (IoU 0.5, averaged over the classes that have true boxes)."""

    map_50: float
    map: float
    map_75: float
    recall_points: np.ndarray
    precision_50: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {"map_50": self.map_50, "map_50_95": self.map, "map_75": self.map_75}


def to_coco_xywh(boxes: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """``rel_xyxy`` boxes → COCO's pixel ``xywh``."""
    from keras.utils import bounding_boxes

    height, width = image_size
    converted = bounding_boxes.convert_format(
        np.asarray(boxes, np.float32).reshape(-1, 4), "rel_xyxy", "xywh", height=height, width=width
    )
    return np.asarray(converted, np.float64).reshape(np.shape(boxes))


def coco_scores(
    true_boxes: np.ndarray,
    true_labels: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    image_size: tuple[int, int],
    num_classes: int,
) -> DetectionScores:
    """COCO mAP of detections against true boxes; all arrays per image, padded with label −1.

    ``true_boxes (I, N, 4)``, ``true_labels (I, N)``; ``boxes (I, D, 4)``, ``scores (I, D)``,
    ``labels (I, D)``, boxes in ``rel_xyxy``.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = to_coco_xywh(true_boxes, image_size)
    found = to_coco_xywh(boxes, image_size)
    height, width = image_size
    annotations, detections = [], []
    for image in range(len(truth)):
        for box, label in zip(truth[image], true_labels[image], strict=True):
            if label >= 0:
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image,
                        "category_id": int(label),
                        "bbox": [float(v) for v in box],
                        "area": float(box[2] * box[3]),
                        "iscrowd": 0,
                    }
                )
        for box, score, label in zip(found[image], scores[image], labels[image], strict=True):
            if label >= 0:
                detections.append(
                    {
                        "image_id": image,
                        "category_id": int(label),
                        "bbox": [float(v) for v in box],
                        "score": float(score),
                    }
                )
    recall_points = np.linspace(0, 1, 101)
    if not detections:  # nothing found: every precision is 0 (pycocotools cannot load no results)
        return DetectionScores(0.0, 0.0, 0.0, recall_points, np.zeros(101))
    ground_truth = COCO()
    ground_truth.dataset = {
        "images": [{"id": i, "height": height, "width": width} for i in range(len(truth))],
        "annotations": annotations,
        "categories": [{"id": c} for c in range(num_classes)],
    }
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        ground_truth.createIndex()
        evaluation = COCOeval(ground_truth, ground_truth.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # precision: (IoU thresholds, recall points, classes, area ranges, max detections);
    # −1 marks classes without true boxes.
    precision = evaluation.eval["precision"][0, :, :, 0, -1]
    present = (precision > -1).any(axis=0)
    curve = precision[:, present].mean(axis=1) if present.any() else np.zeros(101)
    stats = evaluation.stats
    return DetectionScores(
        float(max(stats[1], 0.0)),
        float(max(stats[0], 0.0)),
        float(max(stats[2], 0.0)),
        recall_points,
        curve,
    )
