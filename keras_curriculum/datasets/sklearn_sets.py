"""Small real datasets embedded in scikit-learn: always available, no download."""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.source import Source
from keras_curriculum.registry import register_dataset


def _bunch_source(bunch, *, image_shape=None, scale=1.0, standardize=False) -> Source:
    x = np.asarray(bunch.data, dtype=np.float32) / scale
    y = np.asarray(bunch.target, dtype=np.int64)
    if image_shape is not None:
        x = x.reshape((-1, *image_shape))
    names = [str(n) for n in getattr(bunch, "target_names", range(int(y.max()) + 1))]
    return Source(
        train=(x, y),
        input_shape=tuple(x.shape[1:]),
        num_classes=len(names),
        class_names=names,
        standardize=standardize,
    )


@register_dataset("digits")
def digits() -> Source:
    """1,797 handwritten digits, 8×8 grey images scaled to [0, 1] (scikit-learn, embedded)."""
    from sklearn.datasets import load_digits

    return _bunch_source(load_digits(), image_shape=(8, 8, 1), scale=16.0)


@register_dataset("iris")
def iris(*, classes: list[int] | None = None) -> Source:
    """150 iris flowers, 4 measurements, 3 species; standardised with training statistics.

    ``classes`` keeps only those species, relabelled 0, 1, …: ``[0, 1]`` is setosa vs
    versicolor, the linearly separable pair on which the perceptron converges (notes 001 §2.1).
    """
    from sklearn.datasets import load_iris

    bunch = load_iris()
    if classes is not None:
        bunch = _select_classes(bunch, classes)
    return _bunch_source(bunch, standardize=True)


def _select_classes(bunch, classes: list[int]):
    """The examples of ``classes`` only, in their original order, with labels renumbered."""
    from sklearn.utils import Bunch

    from keras_curriculum.errors import ConfigError

    known = range(len(bunch.target_names))
    if len(set(classes)) < 2 or any(c not in known for c in classes):
        raise ConfigError(
            "data.classes", f"expected two or more distinct labels in {list(known)}, got {classes}"
        )
    keep = np.isin(bunch.target, classes)
    relabel = {old: new for new, old in enumerate(classes)}
    return Bunch(
        data=bunch.data[keep],
        target=np.array([relabel[t] for t in bunch.target[keep]]),
        target_names=[bunch.target_names[c] for c in classes],
    )


@register_dataset("breast_cancer")
def breast_cancer() -> Source:
    """569 breast-mass biopsies, 30 features, malignant vs benign; standardised."""
    from sklearn.datasets import load_breast_cancer

    return _bunch_source(load_breast_cancer(), standardize=True)


@register_dataset("wine")
def wine() -> Source:
    """178 wines, 13 chemical measurements, 3 cultivars; standardised."""
    from sklearn.datasets import load_wine

    return _bunch_source(load_wine(), standardize=True)
