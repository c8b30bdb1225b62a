"""Any TensorFlow Datasets name as ``tfds:<name>`` (for example ``tfds:mnist``, ``tfds:cifar10``).

TFDS downloads and prepares the data on first use, so these need a connected machine; tests
run the same code through ``tfds.testing.mock_data``. Their metadata (shapes, classes) comes
from the builder's feature description, which TFDS defines in code: no download.
"""

from __future__ import annotations

import functools
from typing import Any

import tensorflow as tf

from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.datasets.text import TEXT_NOTE
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import Entry, register_prefix

PREFIX = "tfds:"


def prepared_builder(tfds_name: str, *, data_dir: str | None = None, download: bool = True):
    """The TFDS builder for ``tfds_name``, downloaded and prepared unless ``download`` is off.

    An unknown name, or a download that fails (an offline machine), is a one-line user error.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
        if download:
            builder.download_and_prepare()
    except Exception as error:  # tfds raises many kinds: unknown name, network, checksum
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CurriculumError(f"tfds:{tfds_name}: cannot load ({first_line[:200]})") from None
    return builder


def tfds_loader(
    tfds_name: str,
    *,
    train_split: str = "train",
    validation_split_name: str | None = None,
    test_split_name: str | None = "test",
    input_key: str | None = None,
    label_key: str = "label",
    data_dir: str | None = None,
    download: bool = True,
    seed: int = 0,
) -> Source:
    """Loads ``tfds_name`` as (input, label) pairs; uint8 images are scaled to [0, 1].

    The split options take TFDS split strings, slicing included (``"train[:90%]"``).
    """
    import tensorflow_datasets as tfds

    builder = prepared_builder(tfds_name, data_dir=data_dir, download=download)
    input_key, description = describe_features(builder, input_key, label_key)

    def split(name: str | None) -> tf.data.Dataset | None:
        if name is None:
            return None
        dataset = builder.as_dataset(
            split=name, shuffle_files=False, read_config=tfds.ReadConfig(shuffle_seed=seed)
        )
        return dataset.map(_pair, num_parallel_calls=tf.data.AUTOTUNE)

    def _pair(example: dict[str, Any]):
        x = example[input_key]
        if x.dtype == tf.uint8:
            x = tf.cast(x, tf.float32) / 255.0
        return x, example[label_key]

    train = split(train_split)
    # Text input: the training sentences, for model factories that adapt a vectorizer on them.
    is_text = builder.info.features[input_key].dtype == tf.string
    extras = {"train_texts": train.map(lambda x, y: x).batch(1024)} if is_text else {}
    return description.source(
        train=train,
        validation=split(validation_split_name),
        test=split(test_split_name),
        extras=extras,
    )


def describe_features(builder, input_key: str | None, label_key: str) -> tuple[str, Description]:
    """The input feature's key and the (input, label) pairs' description, from the builder's
    feature specification."""
    features = builder.info.features
    if label_key not in features:
        raise ConfigError("data.label_key", f"{builder.name} has no feature {label_key!r}")
    if input_key is None:
        # "image"/"text" when present: cifar10's first feature is its string "id"
        candidates = [k for k in features.keys() if k != label_key]
        input_key = next((k for k in ("image", "text") if k in candidates), candidates[0])
    elif input_key not in features:
        found = ", ".join(features.keys())
        raise ConfigError(
            "data.input_key", f"{builder.name} has no feature {input_key!r} ({found})"
        )
    label_feature = features[label_key]
    num_classes = getattr(label_feature, "num_classes", None)
    is_text = features[input_key].dtype == tf.string
    return input_key, Description(
        input_shape=tuple(features[input_key].shape),
        num_classes=num_classes,
        class_names=list(label_feature.names) if num_classes else None,
        note=TEXT_NOTE if is_text else "",
    )


@register_metadata(PREFIX)
def tfds_metadata(
    tfds_name: str,
    *,
    input_key: str | None = None,
    label_key: str = "label",
    data_dir: str | None = None,
) -> Description:
    """A ``tfds:<name>`` dataset's description, from its builder (nothing is downloaded)."""
    builder = prepared_builder(tfds_name, data_dir=data_dir, download=False)
    return describe_features(builder, input_key, label_key)[1]


def _resolve(name: str) -> Entry:
    tfds_name = name[len(PREFIX) :]
    function = functools.partial(tfds_loader, tfds_name)
    return Entry(name, function, f"TensorFlow Datasets '{tfds_name}' (downloads on first use)")


register_prefix("dataset", PREFIX, _resolve)
