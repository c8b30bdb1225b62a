"""Oxford-IIIT Pet (Parkhi et al. 2012) from TensorFlow Datasets, as a segmentation task.

7,349 photos of 37 cat and dog breeds, each with a *trimap*: 1 = pet, 2 = background,
3 = border (the uncertain band around the pet). Here the trimap becomes the class mask
background 0, pet 1, border 2, and images and masks are resized to ``image_size`` (bilinear
for the photo, nearest for the mask, so no invented classes appear on the edges).

TFDS downloads the data on first use (about 800 MB), so this needs a connected machine; the
tests run the same code through ``tfds.testing.mock_data``.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    segmentation_description,
)
from keras_curriculum.datasets.tfds_source import prepared_builder
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

CLASS_NAMES = ["background", "pet", "border"]
# trimap value → class id; any other value (none in the real data) counts as background
TRIMAP_TO_CLASS = [0, 1, 0, 2]


def to_example(example: dict[str, Any], image_size: int):
    """(image in [0, 1] of ``image_size``², class mask ``image_size``²) from a TFDS example."""
    image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (image_size, image_size))
    trimap = tf.image.resize(
        example["segmentation_mask"], (image_size, image_size), method="nearest"
    )
    trimap = tf.cast(trimap[..., 0], tf.int32)
    lookup = tf.constant(TRIMAP_TO_CLASS, tf.uint8)
    inside = (trimap >= 0) & (trimap < len(TRIMAP_TO_CLASS))
    mask = tf.where(
        inside, tf.gather(lookup, tf.clip_by_value(trimap, 0, len(TRIMAP_TO_CLASS) - 1)), 0
    )
    return tf.ensure_shape(image, (image_size, image_size, 3)), tf.ensure_shape(
        mask, (image_size, image_size)
    )


@register_metadata("oxford_iiit_pet")
def oxford_iiit_pet_metadata(*, image_size: int = 128) -> Description:
    if image_size < 8:
        raise ConfigError("data.image_size", f"expected at least 8 pixels, got {image_size}")
    return segmentation_description(image_size, 3, CLASS_NAMES, "data.image_size")


@register_dataset("oxford_iiit_pet")
def oxford_iiit_pet(
    *,
    image_size: int = 128,
    train_split: str = "train",
    test_split: str = "test",
    data_dir: str | None = None,
    download: bool = True,
    seed: int = 0,
) -> Source:
    """Oxford-IIIT Pet trimaps via TFDS (downloads on first use): background / pet / border masks.

    The split options take TFDS split strings, slicing included (``"train[:80%]"``).

    Args:
        image_size: side the images and masks are resized to.
        train_split: the TFDS split for training (slicing included).
        test_split: the TFDS split for testing (slicing included).
        data_dir: the TFDS data folder (default: TFDS's own).
        download: download and prepare the data when missing (off: it must be there).
        seed: the shuffle seed of TFDS's read configuration (files are read in order).
    """
    import tensorflow_datasets as tfds

    description = oxford_iiit_pet_metadata(image_size=image_size)
    builder = prepared_builder("oxford_iiit_pet", data_dir=data_dir, download=download)

    def split(name: str) -> tf.data.Dataset:
        dataset = builder.as_dataset(
            split=name, shuffle_files=False, read_config=tfds.ReadConfig(shuffle_seed=seed)
        )
        return dataset.map(
            lambda example: to_example(example, image_size), num_parallel_calls=tf.data.AUTOTUNE
        )

    return description.source(train=split(train_split), test=split(test_split))
