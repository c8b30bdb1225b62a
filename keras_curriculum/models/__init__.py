"""The model zoo: one module per model family, each registering its factories.

>>> from keras_curriculum import models
>>> models.available()                                   # doctest: +SKIP
['cnn', 'mlp', ...]
>>> model = models.build("mlp", input_shape=(8, 8, 1), num_classes=10, hidden_units=[64])

Factories take keyword arguments only and return an *uncompiled* ``keras.Model``. Parameters
named ``input_shape``, ``num_classes`` (or any other field of the data's metadata) are filled
in from the dataset by the trainer unless the config gives them.

Model modules use ``keras.layers`` and ``keras.ops`` only; they never import the datasets or
the trainer.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_curriculum.registry import Entry, Registry, check_arguments

_registry = Registry("model", __name__)

register_model = _registry.register


def available() -> list[str]:
    """Names of every registered model factory."""
    return _registry.available()


def get(name: str) -> Entry:
    """The registry entry (factory function and one-line description) for ``name``."""
    return _registry.get(name)


def entries() -> list[Entry]:
    return _registry.entries()


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


def output_layer(
    units: int, activation: str | None, name: str = "predictions"
) -> keras.layers.Dense:
    """The classification head. It computes in float32 even under a mixed-precision policy,
    so softmax/sigmoid outputs and the loss stay numerically stable."""
    return keras.layers.Dense(units, activation=activation, name=name, dtype="float32")
