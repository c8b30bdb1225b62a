"""Reports of localization and detection runs: boxes drawn on test images, COCO mAP.

``localization`` runs (one object, ``{"class", "box"}`` targets): accuracy and mean IoU are
already the model's test metrics; the report draws true (green) and predicted (red) boxes on
a few test images (``plots/localization_examples.png``).

``detection`` runs (``{"boxes", "labels"}`` targets): the model's ``detect(images)`` (see the
model interface in ``reports/__init__``) gives boxes after non-maximum suppression; the
report scores them with COCO mAP@0.5 and mAP@[.5:.95] (pycocotools, through
:mod:`keras_curriculum.evaluation.detection`), draws the precision–recall curve at IoU 0.5
(``plots/precision_recall.png``) and a few test images with their detections.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

import keras_curriculum.reports.plots as plots
from keras_curriculum.evaluation.detection import coco_scores

EXAMPLES = 6


def test_arrays(data) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The whole test split as arrays (images, targets dict)."""
    images, targets = [], {}
    for x, y in data.test:
        images.append(np.asarray(x))
        for key, value in y.items():
            targets.setdefault(key, []).append(np.asarray(value))
    return np.concatenate(images), {k: np.concatenate(v) for k, v in targets.items()}


def draw_boxes(axis, boxes: np.ndarray, size: tuple[int, int], colour: str, labels=None) -> None:
    """``rel_xyxy`` boxes (rows of −1 skipped) as rectangles on an image axis."""
    from matplotlib.patches import Rectangle

    height, width = size
    for index, (x0, y0, x1, y1) in enumerate(np.asarray(boxes).reshape(-1, 4)):
        if x1 < 0:
            continue
        axis.add_patch(
            Rectangle(
                (x0 * width - 0.5, y0 * height - 0.5),
                (x1 - x0) * width,
                (y1 - y0) * height,
                fill=False,
                edgecolor=colour,
                linewidth=1.2,
            )
        )
        if labels is not None:
            axis.text(x0 * width, y0 * height - 1, str(labels[index]), color=colour, fontsize=6)


def example_grid(images, truth, predicted, path: Path, titles=None) -> Path:
    count = min(EXAMPLES, len(images))
    figure, axes = plots.subplots(1, count, figsize=(2.2 * count, 2.4), squeeze=False)
    for index, axis in enumerate(axes[0]):
        image = images[index]
        axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
        draw_boxes(axis, truth[index], image.shape[:2], "lime")
        draw_boxes(axis, predicted[index], image.shape[:2], "red")
        axis.set_axis_off()
        if titles is not None:
            axis.set_title(titles[index], fontsize=7)
    figure.set_layout_engine("tight")
    return plots.save(figure, path)


def localization_report(model, data, run_dir: Path) -> dict[str, Any]:
    images, targets = next(iter(data.test))
    images = np.asarray(images)[:EXAMPLES]
    predicted = model(images, training=False)
    names = data.info.class_names or []
    classes = np.asarray(predicted["class"]).argmax(-1)
    titles = [
        f"{names[c] if c < len(names) else c} / {names[t] if t < len(names) else t}"
        for c, t in zip(classes, np.asarray(targets["class"])[:EXAMPLES], strict=True)
    ]
    path = example_grid(
        images,
        np.asarray(targets["box"])[:EXAMPLES, None],
        np.asarray(predicted["box"])[:, None],
        run_dir / "plots" / "localization_examples.png",
        titles=titles,
    )
    return {"localization_plot": str(path)}


def detection_report(model, data, run_dir: Path) -> dict[str, Any]:
    detect = getattr(model, "detect", None)
    if not callable(detect):
        return {}
    images, targets = test_arrays(data)
    started = time.perf_counter()
    found = detect(images)
    seconds = time.perf_counter() - started
    scores = coco_scores(
        targets["boxes"],
        targets["labels"],
        found["boxes"],
        found["scores"],
        found["labels"],
        image_size=images.shape[1:3],
        num_classes=data.info.num_classes,
    )
    figure, axis = plots.subplots(figsize=(4, 3.4))
    axis.plot(scores.recall_points, scores.precision_50)
    axis.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axis.set_title(f"IoU 0.5: AP {scores.map_50:.3f}")
    axis.grid(alpha=0.3)
    curve = plots.save(figure, run_dir / "plots" / "precision_recall.png")
    examples = example_grid(
        images, targets["boxes"], found["boxes"], run_dir / "plots" / "detection_examples.png"
    )
    return {
        "detection": {
            **{k: round(v, 4) for k, v in scores.as_dict().items()},
            "milliseconds_per_image": round(1000 * seconds / max(len(images), 1), 2),
            "images": len(images),
        },
        "detection_plots": [str(curve), str(examples)],
    }
