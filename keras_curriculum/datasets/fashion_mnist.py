"""Fashion-MNIST (Xiao et al. 2017): 70,000 28×28 grey images of 10 kinds of garment.

Read from Debian's ``dataset-fashion-mnist`` package when it is installed
(``/usr/share/datasets/fashion-mnist``), else from Keras' cache, else downloaded by Keras.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.source import Description, Source, register_metadata
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


@register_metadata("fashion_mnist")
def fashion_mnist_metadata() -> Description:
    return Description(input_shape=(28, 28, 1), num_classes=10, class_names=CLASS_NAMES)


@register_dataset("fashion_mnist")
def fashion_mnist(
    *, train_size: int | None = None, test_size: int | None = None, seed: int = 0
) -> Source:
    """Fashion-MNIST, 60,000 train / 10,000 test 28×28 images in [0, 1]; 10 classes.

    ``train_size`` / ``test_size`` take a seeded stratified subset (for quick runs and tests).

    Args:
        train_size: a seeded stratified subset of the training images (default: all).
        test_size: a seeded stratified subset of the test images (default: all).
        seed: seeds the subsets.
    """
    (x_train, y_train), (x_test, y_test) = load_arrays()
    x_train, y_train = subsample(x_train, y_train, train_size, seed)
    x_test, y_test = subsample(x_test, y_test, test_size, seed)

    def prepare(x, y):
        return (x[..., None].astype(np.float32) / 255.0, y.astype(np.int64))

    return fashion_mnist_metadata().source(
        train=prepare(x_train, y_train), test=prepare(x_test, y_test)
    )
