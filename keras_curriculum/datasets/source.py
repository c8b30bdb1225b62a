"""What a dataset loader returns (:class:`Source`), what :func:`keras_curriculum.datasets.load`
makes of it (:class:`Data`, :class:`DatasetInfo`), what is known of a dataset without loading
it (:class:`Description`, registered with :func:`register_metadata`), and the registry of
datasets that are prepared from packages into the cache.

Source modules import this module and :func:`keras_curriculum.registry.register_dataset`;
``datasets/__init__`` imports every source module by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

Arrays = tuple[np.ndarray, np.ndarray]
Split = Arrays | tf.data.Dataset


@dataclass
class Source:
    """What a loader returns: unbatched splits and their description.

    ``validation`` and ``test`` may be None: :func:`load` then holds out a seeded fraction of
    ``train``. ``extras`` carries source-specific metadata that model factories may take by
    name (a vocabulary, say).
    """

    train: Split
    input_shape: tuple[int, ...]
    num_classes: int | None = None
    class_names: list[str] | None = None
    validation: Split | None = None
    test: Split | None = None
    task: str = "classification"
    standardize: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # False for a stream drawn afresh each epoch (word2vec's random pairs): caching it would
    # freeze the draws and hold the whole stream in memory.
    cache: bool = True
    # For an endless ``train`` stream (``repeat()``ed inside the source, so that its pipeline
    # runs on from one epoch into the next instead of restarting): how many of its elements
    # make one epoch. The trainer then runs that many elements' worth of steps an epoch.
    epoch_size: int | None = None
    # For windows laid out for truncated BPTT (row b of batch k + 1 continues row b of batch
    # k): the batch size that layout needs. :func:`load` then keeps the training order (no
    # shuffling) and refuses any other batch size.
    ordered_batch: int | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What the trainer and the model factories know about a loaded dataset."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    num_classes: int | None
    class_names: list[str] | None
    num_examples: dict[str, int | None]
    extras: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """The fields a model factory may take by name (``input_shape``, ``num_classes``, …)."""
        return metadata_fields(self)


def metadata_fields(info: DatasetInfo | Description | Source) -> dict[str, Any]:
    """``input_shape``, ``num_classes`` and ``class_names`` (those known), then the extras."""
    fields = {
        "input_shape": info.input_shape,
        "num_classes": info.num_classes,
        "class_names": info.class_names,
    }
    return {**{k: v for k, v in fields.items() if v is not None}, **info.extras}


@dataclass(frozen=True)
class Description:
    """What is known of a source without loading its examples: the fields of a
    :class:`Source` other than its splits.

    ``extras`` holds only what is cheap to know (a vocabulary *size*, not the training
    sentences); a model factory built from a description alone must have the same weights'
    shapes as one built from the loaded data (``keras-curriculum summary`` relies on it).
    """

    input_shape: tuple[int | None, ...]
    num_classes: int | None = None
    class_names: list[str] | None = None
    task: str = "classification"
    extras: dict[str, Any] = field(default_factory=dict)
    # How a model built from this description differs from one built from the loaded data
    # (``keras-curriculum summary`` prints it); empty when it does not.
    note: str = ""

    def metadata(self) -> dict[str, Any]:
        return metadata_fields(self)

    def source(self, *, extras: dict[str, Any] | None = None, **splits: Any) -> Source:
        """The :class:`Source` of these fields and ``splits`` (``train``, ``test``, …, and
        Source's other options), with ``extras`` added to the description's own."""
        return Source(
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            class_names=self.class_names,
            task=self.task,
            extras={**self.extras, **(extras or {})},
            **splits,
        )


def segmentation_description(
    size: int, channels: int, class_names: list[str], size_field: str
) -> Description:
    """Square ``size``² images of ``channels`` with a class id per pixel. ``size_field`` is the
    config field that sets the size, which a model names when the size does not suit it."""
    return Description(
        input_shape=(size, size, channels),
        num_classes=len(class_names),
        class_names=class_names,
        task="segmentation",
        extras={"input_shape_field": size_field},
    )


# ---------------------------------------------------------------------------------------------
# Descriptions: a function per loader (or per name prefix, such as ``tfds:``) that takes the
# loader's options (or those of them it needs) and returns a Description without reading the
# examples. ``datasets.metadata`` calls it; a loader without one is loaded instead.

describers: dict[str, Callable[..., Description]] = {}


def register_metadata(name: str):
    """Registers ``function(**options) -> Description`` for dataset ``name`` (or, for a name
    ending in ``:``, every dataset name with that prefix: ``function(rest, **options)``)."""

    def decorator(function):
        describers[name] = function
        return function

    return decorator


# Loader options whose value belongs to the model section of a config: the examples depend on
# the model's architecture (word2vec's skip-gram and CBOW examples differ). The config sets
# them once, under ``model:``; ``datasets.load`` hands them to the loader.
model_options: dict[str, tuple[str, ...]] = {}


@dataclass
class Data:
    """Batched pipelines ready for ``model.fit`` / ``model.evaluate``, plus their metadata.

    ``labels`` keeps each split's class labels when the targets are something else (the
    inputs themselves, for an autoencoder), for plots that colour examples by class.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None
    test: tf.data.Dataset | None
    info: DatasetInfo
    batch_size: int
    labels: dict[str, np.ndarray] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Data prepared from packages into a cache directory (never into the repository).

preparers: dict[str, Callable[[], Any]] = {}


def register_preparer(name: str):
    """Registers ``function()`` that materialises dataset ``name`` into :func:`cache_dir`."""

    def decorator(function):
        preparers[name] = function
        return function

    return decorator


def call_describer(
    describer: Callable[..., Description], loader: Callable[..., Any], options: dict[str, Any]
) -> Description:
    """``describer`` called with the loader's ``options`` that it names, the loader's defaults
    standing in for those the config leaves out (so a describer names the options it needs
    without repeating their defaults); one that takes ``**options`` gets them all as given."""
    accepted = inspect.signature(describer).parameters
    if any(p.kind == p.VAR_KEYWORD for p in accepted.values()):
        return describer(**options)
    defaults = {
        key: p.default
        for key, p in inspect.signature(loader).parameters.items()
        if p.default is not p.empty
    }
    given = {**defaults, **options}
    return describer(**{key: value for key, value in given.items() if key in accepted})
