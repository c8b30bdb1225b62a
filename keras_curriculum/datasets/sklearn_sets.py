"""Small real datasets embedded in scikit-learn: always available, no download."""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.source import Description, Source, register_metadata
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


# The sets' shapes and class names as scikit-learn ships them, for their descriptions (the
# tests check them against the loaded sets).
SHAPES = {"digits": (8, 8, 1), "iris": (4,), "breast_cancer": (30,), "wine": (13,)}
CLASS_NAMES = {
    "digits": [str(d) for d in range(10)],
    "iris": ["setosa", "versicolor", "virginica"],
    "breast_cancer": ["malignant", "benign"],
    "wine": ["class_0", "class_1", "class_2"],
}


def describe(name: str, classes: list[int] | None = None) -> Description:
    names = CLASS_NAMES[name]
    if classes is not None:
        check_classes(classes, len(names))
        names = [names[c] for c in classes]
    return Description(input_shape=SHAPES[name], num_classes=len(names), class_names=names)


for _name in SHAPES:
    register_metadata(_name)(lambda _name=_name, **options: describe(_name, options.get("classes")))


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

    Args:
        classes: keep only these species, relabelled 0, 1, … (default: all three).
    """
    from sklearn.datasets import load_iris

    bunch = load_iris()
    if classes is not None:
        bunch = _select_classes(bunch, classes)
    return _bunch_source(bunch, standardize=True)


def check_classes(classes: list[int], count: int) -> None:
    from keras_curriculum.errors import ConfigError

    if len(set(classes)) < 2 or any(c not in range(count) for c in classes):
        raise ConfigError(
            "data.classes",
            f"expected two or more distinct labels in {list(range(count))}, got {classes}",
        )


def _select_classes(bunch, classes: list[int]):
    """The examples of ``classes`` only, in their original order, with labels renumbered."""
    from sklearn.utils import Bunch

    check_classes(classes, len(bunch.target_names))
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
