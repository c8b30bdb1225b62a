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
then cache → shuffle (training only, seeded; not for windows laid out for truncated BPTT) →
batch → prefetch; arrays in memory shuffle and batch their positions and gather each batch.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from keras_curriculum.datasets.source import (
    Arrays,
    Data,
    DatasetInfo,
    Description,
    Source,
    Split,
    call_describer,
    describers,
    model_options,
    preparers,
    register_metadata,
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


# The schema's defaults of ``data.validation_split`` / ``data.test_split``: a source that makes
# its own split accepts these (every config written out by a run carries them) and 0.
VALIDATION_SPLIT = 0.1
TEST_SPLIT = 0.2


def loader_options(
    name: str, options: dict[str, Any], model_arguments: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The loader's options, checked against its signature, with the options it takes from
    the model section (:data:`model_options`) filled in from ``model_arguments``.

    Compatibility: configs written before such an option moved to ``model:`` (run
    directories' ``config.yaml``) set it under ``data:``; that still works when the model
    section does not contradict it (the model then takes it from the data's metadata).
    """
    entry = get(name)
    options = dict(options)
    for key in model_options.get(entry.name, ()):
        if key not in (model_arguments or {}):
            continue
        value = model_arguments[key]
        if key in options and options[key] != value:
            raise ConfigError(
                f"data.{key}",
                f"{options[key]!r} contradicts model.{key} = {value!r} (set it once, under model:)",
            )
        options[key] = value
    return check_arguments(entry.function, options, field="data", provided={"seed"})


def load_source(
    name: str, *, seed: int = 0, model_arguments: dict[str, Any] | None = None, **options: Any
) -> Source:
    """Calls the loader ``name`` with its options (checked against its signature)."""
    entry = get(name)
    options = loader_options(name, options, model_arguments)
    if "seed" in entry.parameters:
        options["seed"] = seed
    return entry.function(**options)


def description(
    name: str, *, seed: int = 0, model_arguments: dict[str, Any] | None = None, **options: Any
) -> Description:
    """What is known of dataset ``name`` without loading or downloading its examples (see
    :func:`metadata`). A source that registered no description (:func:`register_metadata`)
    is loaded instead."""
    entry = get(name)
    checked = loader_options(name, options, model_arguments)
    describer = describers.get(entry.name)
    prefix = next((p for p in describers if p.endswith(":") and name.startswith(p)), None)
    if describer is None and prefix is not None:
        describer = functools.partial(describers[prefix], name[len(prefix) :])
    if describer is None:
        if "seed" in entry.parameters:
            checked["seed"] = seed
        source = entry.function(**checked)
        return Description(
            source.input_shape,
            source.num_classes,
            source.class_names,
            source.task,
            source.extras,
            note=f"'{name}' registers no description (register_metadata), so it was loaded",
        )
    return call_describer(describer, entry.function, {**checked, "seed": seed})


def metadata(
    name: str, *, seed: int = 0, model_arguments: dict[str, Any] | None = None, **options: Any
) -> dict[str, Any]:
    """What a model factory takes from dataset ``name`` (``input_shape``, ``num_classes``,
    ``class_names``, a vocabulary size, …), known without loading or downloading the examples.

    The loader's options are checked as :func:`load` checks them. Where the loaded data would
    give more (the training sentences a text model adapts its vectorizer on), the description
    gives what fixes the model's weights, so a model built from it has the same parameters.
    """
    return description(name, seed=seed, model_arguments=model_arguments, **options).metadata()


def load(
    name: str,
    *,
    batch_size: int = 32,
    validation_split: float = VALIDATION_SPLIT,
    test_split: float = TEST_SPLIT,
    targets: Literal["labels", "inputs"] = "labels",
    seed: int = 0,
    shuffle_buffer: int | None = None,
    cache: bool = True,
    model_arguments: dict[str, Any] | None = None,
    **options: Any,
) -> Data:
    """Loads dataset ``name`` as batched train / validation / test ``tf.data`` pipelines.

    ``validation_split`` and ``test_split`` have one meaning: the fraction of the source's
    training examples held out for validation / testing (0 for none; for an endless stream,
    of one epoch's examples). A source that makes that split itself (a test set of its own,
    text sources' seeded splits) cannot honour another fraction and says so (ConfigError)
    unless it is 0 or the default. ``targets="inputs"`` makes every split yield ``(x, x)``,
    for autoencoders; the class labels stay in ``Data.labels``. ``model_arguments`` (the
    config's model section) gives the loader the options it takes from the model
    (:data:`model_options`). Remaining keyword arguments are the loader's own options.
    """
    for key, value in (("validation_split", validation_split), ("test_split", test_split)):
        if not 0 <= value < 1:
            raise ConfigError(f"data.{key}", f"expected a fraction in [0, 1), got {value!r}")
    if batch_size < 1:
        raise ConfigError("data.batch_size", f"expected a positive integer, got {batch_size!r}")
    source = load_source(name, seed=seed, model_arguments=model_arguments, **options)
    for key, value, default, own in (
        ("validation_split", validation_split, VALIDATION_SPLIT, source.validation),
        ("test_split", test_split, TEST_SPLIT, source.test),
    ):
        if own is not None and value not in (0, default):
            split = key.removesuffix("_split")
            raise ConfigError(
                f"data.{key}",
                f"'{name}' makes its own {split} split, so {value} of the training data cannot"
                f" be held out for it (remove data.{key}; see the dataset's own options)",
            )
    if source.ordered_batch and batch_size != source.ordered_batch:
        raise ConfigError(
            "data.batch_size",
            f"the windows are laid out for batches of {source.ordered_batch} (truncated BPTT),"
            f" got {batch_size}",
        )
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
            shuffle=split_name == "train" and not source.ordered_batch,
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
        return _array_pipeline(
            split, batch_size=batch_size, shuffle=shuffle, seed=seed, shuffle_buffer=shuffle_buffer
        )
    dataset = split.cache() if cache else split
    if shuffle:
        dataset = dataset.shuffle(
            shuffle_buffer or 10_000, seed=seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _array_pipeline(
    split: Arrays, *, batch_size: int, shuffle: bool, seed: int, shuffle_buffer: int | None
) -> tf.data.Dataset:
    """Arrays in memory, batched by index: the examples' positions are shuffled and batched,
    and each batch is gathered from the arrays in one op per array.

    tf.data's shuffle and batch handle one element at a time, so shuffling the examples
    themselves copies every image through the pipeline one by one; shuffling positions moves
    an int64 per example instead (on this project's 2-core CPU about a quarter less pipeline
    CPU per Fashion-MNIST batch of 128; the fixed cost per batch remains, README "Machine
    limit"). The order is the one a shuffle of the examples with the same seed and buffer
    gives, so seeded runs see the same batches as before.
    """
    tensors = tf.nest.map_structure(tf.convert_to_tensor, split)
    count = len(tf.nest.flatten(split)[0])
    positions = tf.data.Dataset.range(count)
    if shuffle:
        positions = positions.shuffle(
            shuffle_buffer or count, seed=seed, reshuffle_each_iteration=True
        )

    def gather(batch: tf.Tensor):
        return tf.nest.map_structure(lambda array: tf.gather(array, batch), tensors)

    return positions.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


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
    "description",
    "entries",
    "get",
    "load",
    "load_source",
    "metadata",
    "prepare",
    "preparable",
    "register_metadata",
    "register_preparer",
]


# Every source, explicitly: importing one registers its loaders (and its preparer).
from keras_curriculum.datasets import (  # noqa: E402
    adding_problem,
    canvases,
    characters,
    fashion_mnist,
    fashion_mnist_masks,
    forecasting,
    mnist_5k,
    nuclei,
    oxford_pets,
    seq2seq_tasks,
    shakespeare,
    shapes,
    sklearn_sets,
    text,
    tfds_source,
    uci_har,
    ucr,
    views,
    word2vec_corpus,
)
