"""The base of the project's model classes, in the way of keras-hub's backbones.

A model class takes its hyperparameters as keyword arguments, builds its layers in ``__init__``
and hands the graph to ``super().__init__(inputs=..., outputs=...)``: it is a functional model
(built, summarised, saved like any other) with methods of its own. Its config is the keyword
arguments it was called with, recorded by the first line of ``__init__``, so each
hyperparameter is written once, in the signature::

    class Model(FunctionalModel):
        def __init__(self, *, units: int = 8, name: str = "model", **kwargs):
            hyperparameters = arguments(locals())
            # === Layers / Functional Model ===
            ...
            super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
            # === Config ===
            self.hyperparameters = hyperparameters

A registered class is its own factory (``register_model("name")(Model)``); its docstring's
``Args:`` section documents the hyperparameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras


def arguments(local_variables: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``__init__`` from its ``locals()`` taken on its first line
    (``self``, the base class's ``**kwargs`` and the ``super()`` cell left out)."""
    return {
        key: value
        for key, value in local_variables.items()
        if key not in ("self", "kwargs", "__class__")
    }


def arguments_for(function: Callable[..., Any], given: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``given`` (a factory's ``arguments(locals())``) that ``function`` takes by
    name: a factory hands its part of its keywords on without listing them again."""
    taken = inspect.signature(function).parameters
    return {key: value for key, value in given.items() if key in taken}


class RenamedArguments:
    """A model class whose ``from_config`` takes the config keys of earlier versions too."""

    # Old config key → its keyword today, so model.keras files written before a rename load
    # (the autoencoder, VAE, detector and siamese classes once called their input shape
    # ``data_shape``).
    RENAMED_ARGUMENTS: dict[str, str] = {"data_shape": "input_shape"}

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        renamed = cls.RENAMED_ARGUMENTS
        return cls(**{renamed.get(key, key): value for key, value in config.items()})


class FunctionalModel(RenamedArguments, keras.Model):
    """A functional ``keras.Model`` whose config is ``self.hyperparameters``."""

    hyperparameters: dict[str, Any]

    def get_config(self) -> dict[str, Any]:
        config = {key: _plain(value) for key, value in self.hyperparameters.items()}
        return {"trainable": self.trainable, **config, "name": self.name}


def _plain(value: Any) -> Any:
    """Tuples as lists, as the config reads back from JSON."""
    return [_plain(item) for item in value] if isinstance(value, list | tuple) else value
