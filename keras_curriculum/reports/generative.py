"""What a generator's run writes: its samples, every epoch and at the end.

For an ``image_generation`` run (a GAN), the run directory gets
- ``samples/epoch_NNN.png`` after every epoch: the same fixed noise each time (one row per
  class for a conditional model), so the folder shows training progress as pictures; the grid
  is also logged to TensorBoard (``tensorboard/samples``);
- ``plots/samples.png``: the final grid.

It asks the model for ``sample(n, seed=..., labels=...)`` and reads ``num_classes`` (set for
a conditional model); see ``keras_curriculum.reports``. The Fréchet classifier distance,
precision/recall and class consistency need a classifier trained on the same data:
``keras_curriculum.evaluation.generative`` and ``benchmarks/generative_results.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_curriculum.reports.reconstruction import image_grid

COLUMNS = 8
SEED = 1234  # the fixed noise of every grid


def sample_grid(model, *, n: int = 64, seed: int = SEED, label: int | None = None):
    """``(rows, labels)``: ``n`` samples in rows of :data:`COLUMNS` (one class per row for a
    conditional model, or only class ``label``), from noise fixed by ``seed``."""
    classes = getattr(model, "num_classes", None)
    if classes:
        # One class per row, the classes in turn, unless one ``label`` is asked for.
        labels = np.full(n, label) if label is not None else np.arange(n) // COLUMNS % classes
        images = model.sample(n, seed=seed, labels=labels)
    else:
        labels = None
        images = model.sample(n, seed=seed)
    rows = []
    for start in range(0, n, COLUMNS):
        name = "" if labels is None else str(labels[start])
        rows.append((name, images[start : start + COLUMNS]))
    return rows, images


def write_grid(model, path: Path, *, n: int = 64, seed: int = SEED, label=None, title=None):
    rows, images = sample_grid(model, n=n, seed=seed, label=label)
    return image_grid(rows, path, columns=COLUMNS, title=title), images


class SampleGrid(keras.callbacks.Callback):
    """After each epoch: ``samples/epoch_NNN.png`` and a TensorBoard image of the same grid."""

    def __init__(self, run_dir: Path, n: int = 64):
        super().__init__()
        self.folder = Path(run_dir) / "samples"
        self.logs = Path(run_dir) / "tensorboard" / "samples"
        self.n = n
        self.writer = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        import tensorflow as tf

        path = self.folder / f"epoch_{epoch + 1:03d}.png"
        _, images = write_grid(self.model, path, n=self.n, title=f"epoch {epoch + 1}")
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(str(self.logs))
        with self.writer.as_default():
            tf.summary.image("samples", tiled(images, COLUMNS)[None], step=epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None) -> None:
        if self.writer is not None:
            self.writer.close()


def tiled(images: np.ndarray, columns: int) -> np.ndarray:
    """(N, H, W, C) images → one (rows·H, columns·W, C) picture (blank cells at the end)."""
    images = np.clip(np.asarray(images, dtype="float32"), 0, 1)
    n, h, w, c = images.shape
    rows = -(-n // columns)
    canvas = np.zeros((rows * h, columns * w, c), dtype="float32")
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        canvas[r * h : (r + 1) * h, k * w : (k + 1) * w] = image
    return canvas


def sample_callbacks(model, data, run_dir: Path) -> list[keras.callbacks.Callback]:
    return [SampleGrid(run_dir)]


def generative_report(model, data, run_dir: Path) -> dict[str, Any]:
    path, images = write_grid(model, Path(run_dir) / "plots" / "samples.png")
    return {"samples": {"grid": str(path.relative_to(run_dir)), "images": len(images)}}
