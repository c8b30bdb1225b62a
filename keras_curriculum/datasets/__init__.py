"""The dataset catalogue: one module per source, each registering its loaders.

>>> from keras_curriculum import datasets
>>> data = datasets.load("digits", batch_size=32, seed=0)
>>> data.info.input_shape, data.info.num_classes
((8, 8, 1), 10)
>>> model.fit(data.train, validation_data=data.validation)      # doctest: +SKIP

A loader returns a :class:`Source`: unbatched splits (NumPy arrays or ``tf.data``) and what
is known about them. :func:`load` turns it into batched ``tf.data`` pipelines the same way for
every source: a seeded (stratified, for classification) hold-out of validation and test data
where the source has no such split, optional standardisation with training statistics only,
then cache → shuffle (training only, seeded) → batch → prefetch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from keras_curriculum.datasets.source import (
    Arrays,
    Data,
    DatasetInfo,
    Source,
    Split,
    preparers,
    register_preparer,
)
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import DATASETS, Entry, check_arguments


def available() -> list[str]:
    """Names of every registered dataset (``tfds:<name>`` works for any TFDS name as well)."""
    return DATASETS.available()


def get(name: str) -> Entry:
    return DATASETS.get(name)


def entries() -> list[Entry]:
    return DATASETS.entries()


def load_source(name: str, *, seed: int = 0, **options: Any) -> Source:
    """Calls the loader ``name`` with its options (checked against its signature)."""
    entry = get(name)
    accepts_seed = "seed" in entry.parameters
    options = check_arguments(entry.function, options, field="data", provided={"seed"})
    if accepts_seed:
        options["seed"] = seed
    return entry.function(**options)


def load(
    name: str,
    *,
    batch_size: int = 32,
    validation_split: float = 0.1,
    test_split: float = 0.2,
    targets: Literal["labels", "inputs"] = "labels",
    seed: int = 0,
    shuffle_buffer: int | None = None,
    cache: bool = True,
    **options: Any,
) -> Data:
    """Loads dataset ``name`` as batched train / validation / test ``tf.data`` pipelines.

    ``validation_split`` and ``test_split`` are the fractions of the training data held out
    when the source has no split of its own (0 for none). ``targets="inputs"`` makes every
    split yield ``(x, x)``, for autoencoders; the class labels stay in ``Data.labels``.
    Remaining keyword arguments are the loader's own options.
    """
    for key, value in (("validation_split", validation_split), ("test_split", test_split)):
        if not 0 <= value < 1:
            raise ConfigError(f"data.{key}", f"expected a fraction in [0, 1), got {value!r}")
    if batch_size < 1:
        raise ConfigError("data.batch_size", f"expected a positive integer, got {batch_size!r}")
    source = load_source(name, seed=seed, **options)
    stratify = source.task == "classification"
    epoch_size = source.epoch_size

    def hold_out(split: Split, fraction: float, split_seed: int) -> tuple[Split, Split]:
        nonlocal epoch_size
        kept, held = _hold_out(split, fraction, split_seed, stratify)
        if epoch_size is not None:  # an endless stream: hold out a fixed share of one epoch
            size = max(1, round(fraction * epoch_size))
            held, epoch_size = held.take(size), max(1, epoch_size - size)
            kept = kept.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY))
        return kept, held

    train, test = source.train, source.test
    if test is None and test_split:
        train, test = hold_out(train, test_split, seed)
    validation = source.validation
    if validation is None and validation_split:
        train, validation = hold_out(train, validation_split, seed + 1)
    if source.standardize:
        train, validation, test = _standardize(train, validation, test)

    splits = {"train": train, "validation": validation, "test": test}
    labels: dict[str, np.ndarray] = {}
    task = source.task
    if targets == "inputs":
        for split_name, split in splits.items():
            if isinstance(split, tuple):
                labels[split_name] = split[1]
                splits[split_name] = (split[0], split[0])
            elif split is not None:
                splits[split_name] = split.map(lambda x, y: (x, x))
        task = "reconstruction"

    info = DatasetInfo(
        name=name,
        task=task,
        input_shape=tuple(source.input_shape),
        num_classes=source.num_classes,
        class_names=source.class_names,
        num_examples={k: _count(v) for k, v in splits.items()}
        | ({"train": epoch_size} if epoch_size is not None else {}),
        extras=dict(source.extras),
    )
    pipelines = {
        split_name: _pipeline(
            split,
            batch_size=batch_size,
            shuffle=split_name == "train",
            seed=seed,
            shuffle_buffer=shuffle_buffer,
            cache=cache and source.cache,
        )
        if split is not None
        else None
        for split_name, split in splits.items()
    }
    return Data(**pipelines, info=info, batch_size=batch_size, labels=labels)


def _count(split: Split | None) -> int | None:
    if split is None:
        return None
    if isinstance(split, tuple):
        return len(split[0])
    cardinality = int(split.cardinality())
    return cardinality if cardinality >= 0 else None


def _hold_out(split: Split, fraction: float, seed: int, stratify: bool) -> tuple[Split, Split]:
    """Splits off a seeded ``fraction`` of ``split`` (stratified by label for arrays)."""
    if isinstance(split, tuple):
        from sklearn.model_selection import train_test_split

        x, y = split
        x_keep, x_out, y_keep, y_out = train_test_split(
            x, y, test_size=fraction, random_state=seed, stratify=y if stratify else None
        )
        return (x_keep, y_keep), (x_out, y_out)
    # A stream of unknown length: a fixed pseudo-random assignment of each element's index.
    threshold = int(fraction * 2**16)

    def held_out(index, _element):
        mixed = (index * 2654435761 + seed * 40503) % 2**32
        return mixed // 2**16 < threshold  # tf tensors have no >> operator

    # Named functions, not lambdas: AutoGraph cannot tell two lambdas on one line apart.
    def kept(index, element):
        return tf.logical_not(held_out(index, element))

    def without_index(index, element):
        return element

    indexed = split.enumerate()
    return indexed.filter(kept).map(without_index), indexed.filter(held_out).map(without_index)


def _standardize(*splits: Split | None) -> list[Split | None]:
    """z-scores every split's inputs with the mean and standard deviation of the first (train)."""
    x_train = splits[0][0]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    return [None if s is None else (((s[0] - mean) / std).astype(np.float32), s[1]) for s in splits]


def _pipeline(
    split: Split,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    shuffle_buffer: int | None,
    cache: bool,
) -> tf.data.Dataset:
    if isinstance(split, tuple):
        dataset = tf.data.Dataset.from_tensor_slices(split)
        buffer = shuffle_buffer or len(split[0])
    else:
        dataset = split
        buffer = shuffle_buffer or 10_000
        if cache:
            dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def preparable() -> list[str]:
    return sorted(preparers)


def prepare(name: str) -> Any:
    """Materialises dataset ``name`` into the cache (``keras-curriculum data prepare NAME``)."""
    names = preparable()
    if name not in names:
        from keras_curriculum.errors import did_you_mean

        raise CurriculumError(
            f"dataset '{name}' needs no preparation or does not exist{did_you_mean(name, names)}"
            f" (preparable: {', '.join(names) or 'none'})"
        )
    return preparers[name]()


def describe(name: str) -> str:
    return get(name).description


__all__ = [
    "Data",
    "DatasetInfo",
    "Source",
    "available",
    "describe",
    "entries",
    "get",
    "load",
    "load_source",
    "prepare",
    "preparable",
    "register_preparer",
]


# Every source, explicitly: importing one registers its loaders (and its preparer).
from keras_curriculum.datasets import (  # noqa: E402
    fashion_mnist,
    fashion_mnist_masks,
    mnist_5k,
    nuclei,
    oxford_pets,
    seq2seq_tasks,
    shakespeare,
    shapes,
    sklearn_sets,
    text,
    tfds_source,
    views,
    word2vec_corpus,
)
