"""The explanation report of image classifiers: a grid of Grad-CAM overlays (notes 002 §5).

Runs after every ``classification`` run; models that are not convolutional image classifiers
(text models, MLPs on vectors, subclassed models) are skipped silently. A few test images
(one batch at most, so it stays cheap) each show the image and its Grad-CAM map for the
predicted class over it, titled predicted / true class: ``plots/gradcam.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import keras_curriculum.reports.plots as plots
from keras_curriculum.errors import CurriculumError
from keras_curriculum.evaluation.explain import explain, is_image_classifier, overlay

EXAMPLES = 8


def overlay_grid(images, maps, titles: list[str], path: Path) -> Path:
    """Row 1: the images; row 2: each map overlaid on its image."""
    return plots.mosaic(
        [
            list(images),
            [overlay(np.asarray(i, np.float32), m) for i, m in zip(images, maps, strict=True)],
        ],
        path,
        captions=[titles, [""] * len(titles)],
        inches_per_tile=1.8,
    )


def explain_report(model, data, run_dir: Path) -> dict[str, Any]:
    if not is_image_classifier(model):
        return {}
    images, labels = next(iter(data.test))
    images, labels = np.asarray(images)[:EXAMPLES], np.asarray(labels)[:EXAMPLES]
    if labels.ndim != 1:  # not one class label per image
        return {}
    try:
        maps, classes = explain(model, images, "gradcam")
    except CurriculumError:
        return {}
    names = data.info.class_names or [str(c) for c in range(int(classes.max()) + 1)]

    def name(index: int) -> str:
        return names[index] if 0 <= index < len(names) else str(index)

    titles = [f"{name(int(p))} / {name(int(t))}" for p, t in zip(classes, labels, strict=True)]
    return {
        "gradcam_plot": str(overlay_grid(images, maps, titles, run_dir / "plots" / "gradcam.png"))
    }
