"""Every figure the project draws, saved as PNG without a display (matplotlib's Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def learning_curves(history: dict[str, list[float]], path: Path) -> Path:
    """One panel per quantity (loss, accuracy, …), training and validation side by side."""
    quantities = [k for k in history if not k.startswith("val_") and k not in ("epoch", "learning_rate")]
    figure, axes = plt.subplots(1, max(1, len(quantities)), figsize=(4.2 * max(1, len(quantities)), 3.2), squeeze=False)
    for axis, key in zip(axes[0], quantities, strict=False):
        epochs = range(1, len(history[key]) + 1)
        axis.plot(epochs, history[key], marker="o", ms=3, label="train")
        if f"val_{key}" in history:
            axis.plot(epochs, history[f"val_{key}"], marker="o", ms=3, label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(key)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return save(figure, path)
