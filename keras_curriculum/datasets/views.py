"""Views of a labelled image dataset for tasks other than classification.

* ``image_generation``: the images (with their labels, for conditional models) as data to imitate;
  task ``image_generation``, so a run gets the generative report instead of a classification one.
* ``metric_learning``: the classes split in two. Training sees only ``train_classes``,
  either as balanced positive/negative pairs ``((x1, x2), same)`` for a contrastive loss, or
  as labelled batches ``(x, y)`` from which a triplet loss mines its triplets. The test split
  holds labelled images of the *other* classes only, so one-shot recognition is measured on
  classes never seen in training (002 §6.0.3).

Both take any registered labelled dataset by name (``source``) and its options
(``source_options``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from keras_curriculum.datasets.source import (
    Description,
    Source,
    call_describer,
    describers,
    register_metadata,
)
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import DATASETS, check_arguments, register_dataset


def labelled_source(source: str, seed: int, options: dict[str, Any]) -> Source:
    """The registered dataset ``source`` (array splits with a test split)."""
    # Through the registry, not ``datasets.load_source``: the package imports this module.
    entry = DATASETS.get(source)
    options = check_arguments(entry.function, options, field="data.source_options")
    loaded = entry.function(**options, **({"seed": seed} if "seed" in entry.parameters else {}))
    if not isinstance(loaded.train, tuple) or not isinstance(loaded.test, tuple):
        raise ConfigError("data.source", f"'{source}' needs array train and test splits")
    return loaded


def labelled_description(source: str, seed: int, options: dict[str, Any]) -> Description:
    """The description of ``source`` (its registered one, else that of the loaded data)."""
    entry = DATASETS.get(source)
    options = check_arguments(entry.function, options, field="data.source_options")
    describer = describers.get(entry.name)
    if describer is None:
        loaded = labelled_source(source, seed, options)
        return Description(
            loaded.input_shape, loaded.num_classes, loaded.class_names, loaded.task, loaded.extras
        )
    return call_describer(describer, entry.function, {**options, "seed": seed})


def view_description(described: Source | Description, task: str, **fields: Any) -> Description:
    """The input shape and class names of the source ``described``, seen as a dataset of
    ``task``; ``fields`` give the rest of the description (``num_classes``, ``extras``)."""
    return Description(
        input_shape=described.input_shape, class_names=described.class_names, task=task, **fields
    )


def balanced_pairs(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` index pairs (i, j, same): half of the same class (i ≠ j), half of different
    classes, in random order."""
    labels = np.asarray(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    positives, negatives = count // 2, count - count // 2
    anchors = rng.integers(0, len(labels), positives)
    partners = np.empty(positives, dtype=np.int64)
    for c, members in by_class.items():
        chosen = labels[anchors] == c
        # A partner other than the anchor itself: offset within the class by 1 … n − 1.
        position = np.searchsorted(members, anchors[chosen])
        shift = rng.integers(1, max(len(members), 2), chosen.sum())
        partners[chosen] = members[(position + shift) % len(members)]
    left = rng.integers(0, len(labels), negatives)
    right = rng.integers(0, len(labels), negatives)
    clash = labels[left] == labels[right]
    while clash.any():  # redraw the partners that fell in the anchor's class
        right[clash] = rng.integers(0, len(labels), clash.sum())
        clash = labels[left] == labels[right]
    pairs = np.concatenate(
        [
            np.stack([anchors, partners, np.ones(positives, dtype=np.int64)], axis=1),
            np.stack([left, right, np.zeros(negatives, dtype=np.int64)], axis=1),
        ]
    )
    return pairs[rng.permutation(len(pairs))]


def pair_dataset(x: np.ndarray, pairs: np.ndarray) -> tf.data.Dataset:
    """((x[i], x[j]), same) for each row of ``pairs``."""
    return tf.data.Dataset.from_tensor_slices(
        ((x[pairs[:, 0]], x[pairs[:, 1]]), pairs[:, 2].astype(np.float32))
    )


def _keep(x: np.ndarray, y: np.ndarray, classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    kept = np.isin(y, classes)
    return x[kept], y[kept]


@register_dataset("image_generation")
def image_generation(
    *,
    source: str = "fashion_mnist",
    source_options: dict[str, Any] | None = None,
    classes: Sequence[int] | None = None,
    seed: int = 0,
) -> Source:
    """A labelled image dataset (``source``) as images to generate; task ``image_generation``.

    Args:
        source: the registered labelled dataset whose images are generated.
        source_options: that dataset's options (its sizes, …).
        classes: keep only these classes (all by default); labels stay as in the source.
        seed: the source's seed (its subsets).
    """
    loaded = labelled_source(source, seed, source_options or {})
    train, test = loaded.train, loaded.test
    if classes is not None:
        train, test = _keep(*train, classes), _keep(*test, classes)
    described = view_description(loaded, "image_generation", num_classes=loaded.num_classes)
    return described.source(train=train, test=test)


@register_metadata("image_generation")
def image_generation_metadata(
    *, source: str, source_options: dict[str, Any] | None, seed: int
) -> Description:
    described = labelled_description(source, seed, source_options or {})
    return view_description(described, "image_generation", num_classes=described.num_classes)


@register_dataset("metric_learning")
def metric_learning(
    *,
    source: str = "fashion_mnist",
    source_options: dict[str, Any] | None = None,
    train_classes: Sequence[int] = (0, 1, 2, 3, 4, 5),
    test_classes: Sequence[int] | None = None,
    pairs: bool = False,
    pairs_per_image: float = 1.0,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> Source:
    """Train on ``train_classes``, test on the other classes (``test_classes``), task
    ``metric_learning``.

    Args:
        source: the registered labelled dataset whose images are used.
        source_options: that dataset's options (its sizes, …).
        train_classes: the classes training (and validation) sees.
        test_classes: the classes of the test split (default: every other class).
        pairs: training and validation yield balanced pairs ``((x1, x2), same)``, drawn once
            from ``seed``; otherwise labelled batches ``(x, y)``.
        pairs_per_image: training pairs per training image (with ``pairs``).
        validation_fraction: the training classes' images held out (stratified) for
            validation, before any pair is drawn.
        seed: seeds the source, the validation hold-out and the pairs.

    The test split is the source's test images of ``test_classes``, labelled.
    """
    from sklearn.model_selection import train_test_split

    loaded = labelled_source(source, seed, source_options or {})
    num_classes = loaded.num_classes or int(np.max(loaded.train[1]) + 1)
    test_classes = _test_classes(num_classes, train_classes, test_classes)
    x, y = _keep(*loaded.train, train_classes)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=validation_fraction, random_state=seed, stratify=y
    )
    rng = np.random.default_rng(seed)
    if pairs:
        train = pair_dataset(
            x_train, balanced_pairs(y_train, round(pairs_per_image * len(y_train)), rng)
        )
        validation = pair_dataset(x_val, balanced_pairs(y_val, len(y_val), rng))
    else:
        train, validation = (x_train, y_train), (x_val, y_val)
    extras = {"train_classes": list(train_classes), "test_classes": list(test_classes)}
    return view_description(loaded, "metric_learning", extras=extras).source(
        train=train, validation=validation, test=_keep(*loaded.test, test_classes)
    )


def _test_classes(
    num_classes: int, train_classes: Sequence[int], test_classes: Sequence[int] | None
) -> Sequence[int]:
    """``test_classes`` (default: the classes not trained on), checked."""
    classes = set(range(num_classes))
    test_classes = sorted(classes - set(train_classes)) if test_classes is None else test_classes
    overlap = set(train_classes) & set(test_classes)
    if overlap:
        raise ConfigError("data.test_classes", f"classes {sorted(overlap)} are also trained on")
    if len(test_classes) < 2:
        raise ConfigError("data.test_classes", "one-shot tests need at least two classes")
    return test_classes


@register_metadata("metric_learning")
def metric_learning_metadata(
    *,
    source: str,
    source_options: dict[str, Any] | None,
    train_classes: Sequence[int],
    test_classes: Sequence[int] | None,
    seed: int,
) -> Description:
    described = labelled_description(source, seed, source_options or {})
    num_classes = described.num_classes
    if num_classes is None:  # the loader counts the labels: so must this
        labels = labelled_source(source, seed, source_options or {}).train[1]
        num_classes = int(np.max(labels) + 1)
    test_classes = _test_classes(num_classes, train_classes, test_classes)
    extras = {"train_classes": list(train_classes), "test_classes": list(test_classes)}
    return view_description(described, "metric_learning", extras=extras)
