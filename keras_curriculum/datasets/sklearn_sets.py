"""Small real datasets embedded in scikit-learn: always available, no download."""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets import Source, register_dataset


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
def iris() -> Source:
    """150 iris flowers, 4 measurements, 3 species; standardised with training statistics."""
    from sklearn.datasets import load_iris

    return _bunch_source(load_iris(), standardize=True)


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
