"""The segmentation report: per-class IoU and Dice on the test split, and mask overlays.

Runs after the test evaluation of any run whose data has ``task="segmentation"``. Every test
pixel goes into one confusion matrix M (rows: true class, columns: predicted class), so

    IoU_c  = M_cc / (Σ_j M_cj + Σ_i M_ic − M_cc)
    Dice_c = 2 M_cc / (Σ_j M_cj + Σ_i M_ic)

over the whole split. ``mean_iou`` averages the classes present in the truth or the
prediction; ``foreground_iou`` / ``foreground_dice`` average every class but background (0).
The figure ``plots/segmentation_examples.png`` shows image | true mask | predicted mask for a
few test images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

import keras_curriculum.reports.plots as plots
from keras_curriculum.objectives.confusion import (
    confusion_matrix,
    overlap_scores,
    predicted_classes,
)

EXAMPLES = 4


def overlap(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class IoU and Dice in float64, NaN where a class is in neither truth nor prediction."""
    iou, dice, present = (np.asarray(t) for t in overlap_scores(confusion, "float64"))
    return np.where(present, iou, np.nan), np.where(present, dice, np.nan)


def summarize(confusion: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    iou, dice = overlap(confusion)
    foreground = slice(1, None) if len(class_names) > 1 else slice(None)

    def mean(values: np.ndarray) -> float | None:
        values = values[~np.isnan(values)]
        return round(float(values.mean()), 4) if values.size else None

    return {
        "per_class_iou": {
            n: None if np.isnan(v) else round(float(v), 4)
            for n, v in zip(class_names, iou, strict=True)
        },
        "per_class_dice": {
            n: None if np.isnan(v) else round(float(v), 4)
            for n, v in zip(class_names, dice, strict=True)
        },
        "mean_iou": mean(iou),
        "foreground_iou": mean(iou[foreground]),
        "foreground_dice": mean(dice[foreground]),
        "pixel_accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 4),
        "pixels": int(confusion.sum()),
    }


def segmentation_report(model, data, run_dir: Path) -> dict[str, Any]:
    num_classes = data.info.num_classes
    class_names = data.info.class_names or [str(c) for c in range(num_classes)]
    confusion = np.zeros((num_classes, num_classes), np.int64)
    shown: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for images, masks in data.test:
        # not predict_on_batch: under a MirroredStrategy it returns one copy per replica
        predicted = np.asarray(predicted_classes(model(images, training=False)))
        masks = np.asarray(masks).reshape(predicted.shape)
        confusion += confusion_matrix(masks, predicted, num_classes)
        for index in range(min(len(predicted), EXAMPLES - len(shown))):
            shown.append((np.asarray(images[index]), masks[index], predicted[index]))
    summary = summarize(confusion, class_names)
    if shown:
        summary["plot"] = str(
            draw_examples(shown, class_names, run_dir / "plots" / "segmentation_examples.png")
        )
    return {"segmentation": summary}


def draw_examples(
    examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], class_names: list[str], path: Path
) -> Path:
    """One row per example: the image, then the true and predicted masks drawn over it."""
    import matplotlib.patches as mpatches
    from matplotlib.colors import ListedColormap

    # Background stays transparent; each other class gets a fixed colour.
    colours = ListedColormap(
        matplotlib.colormaps.get_cmap("tab10").colors[: max(len(class_names) - 1, 1)]
    )
    figure, axes = plots.subplots(
        len(examples), 3, figsize=(7.5, 2.5 * len(examples)), squeeze=False
    )
    for row, (image, truth, predicted) in zip(axes, examples, strict=True):
        image = image[..., None] if image.ndim == 2 else image
        low, high = float(image.min()), float(image.max())
        picture = np.clip((image - low) / max(high - low, 1e-6), 0, 1)
        for axis, mask, title in zip(
            row, (None, truth, predicted), ("image", "true mask", "predicted mask"), strict=True
        ):
            if mask is None:
                axis.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray")
            else:
                # Over a grey copy, so the class colours do not mix with the image's own.
                axis.imshow(picture.mean(axis=-1), cmap="gray", interpolation="nearest")
                axis.imshow(
                    np.ma.masked_equal(mask, 0) - 1,
                    cmap=colours,
                    vmin=0,
                    vmax=colours.N - 1,
                    alpha=0.55,
                    interpolation="nearest",
                )
            axis.set_title(title, fontsize=9)
            axis.axis("off")
    handles = [
        mpatches.Patch(color=colours(index - 1), label=name)
        for index, name in enumerate(class_names)
        if index > 0
    ]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return plots.save(figure, path)
