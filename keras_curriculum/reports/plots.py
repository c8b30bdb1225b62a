"""Every figure the project draws, saved as PNG.

Figures are built with :func:`subplots`, which makes a bare ``matplotlib.figure.Figure``
rendered by the Agg canvas: no pyplot state, no display needed, and the global backend is left
alone, so a notebook's inline plots keep working after a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def subplots(*args: Any, **kwargs: Any):
    """Like ``plt.subplots`` (same arguments, returns ``(figure, axes)``), outside pyplot."""
    figure = Figure(figsize=kwargs.pop("figsize", None))
    return figure, figure.subplots(*args, **kwargs)


def save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    import sys

    if "matplotlib.pyplot" in sys.modules:  # a pyplot figure would stay open until closed
        sys.modules["matplotlib.pyplot"].close(figure)
    return path


def tile(image) -> np.ndarray:
    """An image as (H, W, 3) floats in [0, 1]: grey images are repeated into three channels and
    images outside [0, 1] are rescaled by their own range."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    low, high = float(image.min(initial=0.0)), float(image.max(initial=1.0))
    if low < 0 or high > 1:
        image = (image - low) / max(high - low, 1e-8)
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]


def mosaic(
    rows: list[list[Any]],
    path: Path,
    *,
    captions: list[list[str]] | None = None,
    row_labels: list[str] | None = None,
    title: str | None = None,
    inches_per_tile: float = 1.2,
) -> Path:
    """Rows of images drawn as one picture: a grid of tiles in a single ``imshow``, a caption
    over each tile and a label left of each row.

    One axes instead of one per image: matplotlib lays out and renders every axes on its own,
    so a 5 × 5 grid of axes costs seconds where one mosaic costs a fraction of one.
    """
    tiles = [[tile(image) for image in row] for row in rows]
    height = max(t.shape[0] for row in tiles for t in row)
    width = max(t.shape[1] for row in tiles for t in row)
    columns = max(len(row) for row in tiles)
    gap = max(2, width // 10)
    caption_lines = max((c.count("\n") + 1 for row in captions or [] for c in row), default=0)
    above = gap + (int(0.28 * height * caption_lines) if captions else 0)
    canvas = np.ones((len(tiles) * (height + above), columns * (width + gap) - gap, 3), np.float32)
    for r, row in enumerate(tiles):
        for c, image in enumerate(row):
            top, left = r * (height + above) + above, c * (width + gap)
            canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    size = (columns * inches_per_tile, len(tiles) * inches_per_tile * (height + above) / width)
    figure, axis = subplots(figsize=size)
    axis.imshow(canvas, interpolation="nearest")
    axis.set_axis_off()
    for r, row in enumerate(captions or []):
        for c, caption in enumerate(row):
            axis.text(
                c * (width + gap) + width / 2,
                r * (height + above) + above - 1,
                caption,
                ha="center",
                va="bottom",
                fontsize=7,
            )
    for r, label in enumerate(row_labels or []):
        axis.text(-gap, r * (height + above) + above + height / 2, label, ha="right", va="center",
                  fontsize=8)  # fmt: skip
    if title:
        axis.set_title(title, fontsize=9)
    return save(figure, path)


def learning_curves(history: dict[str, list[float]], path: Path) -> Path:
    """One panel per quantity (loss, accuracy, …), training and validation side by side."""
    quantities = [
        k for k in history if not k.startswith("val_") and k not in ("epoch", "learning_rate")
    ]
    figure, axes = subplots(
        1, max(1, len(quantities)), figsize=(4.2 * max(1, len(quantities)), 3.2), squeeze=False
    )
    for axis, key in zip(axes[0], quantities, strict=False):
        epochs = range(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], marker="o", ms=3, label="train")
        if f"val_{key}" in history:
            axis.plot(epochs, history[f"val_{key}"], marker="o", ms=3, label="validation")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(key)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.set_layout_engine("tight")
    return save(figure, path)
