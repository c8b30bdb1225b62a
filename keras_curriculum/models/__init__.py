"""The model zoo: one module per model family, each registering its factories.

>>> from keras_curriculum import models
>>> models.available()                                   # doctest: +SKIP
['cnn', 'mlp', ...]
>>> model = models.build("mlp", input_shape=(8, 8, 1), num_classes=10, hidden_units=[64])

Every family module is imported below by name (one line per family, as timm's
``models/__init__`` does); a new family adds its line there.

Factories take keyword arguments only and return an *uncompiled* ``keras.Model``. Parameters
named ``input_shape``, ``num_classes`` (or any other field of the data's metadata) are filled
in from the dataset by the trainer unless the config gives them.

Model modules use ``keras.layers`` and ``keras.ops`` only; they never import the datasets or
the trainer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from keras_curriculum.registry import MODELS, Entry, check_arguments


def available() -> list[str]:
    """Names of every registered model factory."""
    return MODELS.available()


def get(name: str) -> Entry:
    """The registry entry (factory function and one-line description) for ``name``."""
    return MODELS.get(name)


def entries() -> list[Entry]:
    return MODELS.entries()


def build(name: str, *, metadata: dict[str, Any] | None = None, **kwargs: Any) -> keras.Model:
    """Builds the uncompiled model ``name`` from keyword arguments.

    ``metadata`` (for example ``{"input_shape": (28, 28, 1), "num_classes": 10}``) fills any
    factory parameter of the same name that ``kwargs`` does not set.
    """
    entry = get(name)
    parameters = entry.parameters
    filled = {
        key: value
        for key, value in (metadata or {}).items()
        if key in parameters and key not in kwargs
    }
    arguments = check_arguments(entry.function, kwargs, field="model", provided=set(filled))
    return entry.function(**filled, **arguments)


def load(path: str | Path) -> keras.Model:
    """Loads a ``model.keras`` written by this project. Importing this package registered
    every family's Keras classes, which deserialising needs. Files written by earlier
    versions of a model (autoencoder, VAE, word2vec) come back as today's class."""
    model = autoencoder.load_legacy(path) or keras.saving.load_model(path)
    return word2vec.from_legacy(model)


# Every family, explicitly: importing one registers its factories (and its Keras classes, so
# a saved model.keras loads once this package is imported).
from keras_curriculum.models import (  # noqa: E402
    autoencoder,
    char_lm,
    cnn,
    densenet,
    detector,
    gan,
    inception,
    localization,
    mlp,
    perceptron,
    resnet,
    rnn,
    seq2seq,
    sequence,
    siamese,
    softmax_regression,
    transfer,
    transformer,
    unet,
    vae,
    vgg,
    word2vec,
)

__all__ = ["available", "build", "entries", "get", "load"]
