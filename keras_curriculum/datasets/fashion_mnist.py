"""Fashion-MNIST (Xiao et al. 2017): 70,000 28×28 grey images of 10 kinds of garment.

Read from Debian's ``dataset-fashion-mnist`` package when it is installed
(``/usr/share/datasets/fashion-mnist``), else from Keras' cache, else downloaded by Keras.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
SEARCH_PATHS = (
    Path("/usr/share/datasets/fashion-mnist"),
    Path.home() / ".keras" / "datasets" / "fashion-mnist",
)


def read_idx(path: Path, offset: int) -> np.ndarray:
    """An IDX file (gzip): a header of ``offset`` bytes, then unsigned bytes."""
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), dtype=np.uint8, offset=offset)


def read_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 16)
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 8)
    return images.reshape(-1, 28, 28), labels


def load_arrays() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, from the first place that has them."""
    for folder in SEARCH_PATHS:
        if (folder / "train-images-idx3-ubyte.gz").exists():
            return read_split(folder, "train"), read_split(folder, "t10k")
    import keras

    return keras.datasets.fashion_mnist.load_data()


def subsample(x: np.ndarray, y: np.ndarray, size: int | None, seed: int):
    """A seeded, class-stratified subset of ``size`` examples (all when ``size`` is None)."""
    if size is None or size >= len(y):
        return x, y
    from sklearn.model_selection import train_test_split

    x, _, y, _ = train_test_split(x, y, train_size=size, random_state=seed, stratify=y)
    return x, y


def class_subset(classes: Sequence[int] | None) -> list[int]:
    """The classes to keep, checked: all ten by default."""
    if classes is None:
        return list(range(len(CLASS_NAMES)))
    kept = list(classes)
    if not kept or len(set(kept)) != len(kept) or not set(kept) <= set(range(len(CLASS_NAMES))):
        raise ConfigError(
            "data.classes", f"expected distinct class numbers from 0 to 9, got {list(classes)}"
        )
    return kept


def keep_classes(x: np.ndarray, y: np.ndarray, classes: list[int]):
    """The examples of ``classes`` only, relabelled 0 … k−1 in the order given."""
    kept = np.isin(y, classes)
    relabel = np.zeros(len(CLASS_NAMES), dtype=y.dtype)
    relabel[classes] = np.arange(len(classes))
    return x[kept], relabel[y[kept]]


@register_metadata("fashion_mnist")
def fashion_mnist_metadata(*, classes: Sequence[int] | None = None) -> Description:
    kept = class_subset(classes)
    return Description(
        input_shape=(28, 28, 1),
        num_classes=len(kept),
        class_names=[CLASS_NAMES[c] for c in kept],
    )


@register_dataset("fashion_mnist")
def fashion_mnist(
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    classes: Sequence[int] | None = None,
    seed: int = 0,
) -> Source:
    """Fashion-MNIST, 60,000 train / 10,000 test 28×28 images in [0, 1]; 10 classes.

    ``train_size`` / ``test_size`` take a seeded stratified subset (for quick runs and tests);
    ``classes`` keeps some classes only (transfer learning: pretrain on 0–4, then learn 5–9).

    Args:
        train_size: a seeded stratified subset of the training images (default: all, or all
            of ``classes``): with ``classes`` [5, …, 9], 300 is 1 % of their labels.
        test_size: a seeded stratified subset of the test images (default: all).
        classes: keep these classes only, relabelled 0 … k−1 in this order (default: all ten).
        seed: seeds the subsets.
    """
    kept = class_subset(classes)
    (x_train, y_train), (x_test, y_test) = load_arrays()
    x_train, y_train = keep_classes(x_train, y_train, kept)
    x_test, y_test = keep_classes(x_test, y_test, kept)
    x_train, y_train = subsample(x_train, y_train, train_size, seed)
    x_test, y_test = subsample(x_test, y_test, test_size, seed)

    def prepare(x, y):
        return (x[..., None].astype(np.float32) / 255.0, y.astype(np.int64))

    return fashion_mnist_metadata(classes=kept).source(
        train=prepare(x_train, y_train), test=prepare(x_test, y_test)
    )
