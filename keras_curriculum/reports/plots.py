"""Every figure the project draws, saved as PNG.

Figures are built with :func:`subplots`, which makes a bare ``matplotlib.figure.Figure``
rendered by the Agg canvas: no pyplot state, no display needed, and the global backend is left
alone, so a notebook's inline plots keep working after a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
