"""Data augmentation as Keras preprocessing layers, chosen in the config.

The idea (notes 001 §16, 002 §2.4, 004 L6): show the network plausible variations of each
training image — flipped, shifted, rotated, zoomed, with changed contrast — so it learns the
invariances instead of memorising pixels. The random layers are part of the model and act only
while training (``training=True``); at inference they pass images through unchanged, so
``evaluate``/``predict`` see the real test images. (Keras 3 replaces the notes'
``ImageDataGenerator`` by these layers.)

Every image factory (mlp, cnn, resnet) takes ``augmentation`` and calls :func:`augment` on its
inputs::

    model:
      name: cnn
      augmentation: {flip: horizontal, translation: 0.1, rotation: 0.05, zoom: 0.1, contrast: 0.1}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import keras

from keras_curriculum.models.layers import add_channel


@dataclass
class Augmentation:
    """Which random transformations to apply to training images (0 or None: off).

    ``translation`` and ``zoom`` are fractions of the image height/width, ``rotation`` a
    fraction of a full turn (0.05 → up to ±18°), ``contrast`` the factor range ±contrast.
    """

    flip: Literal["horizontal", "vertical", "horizontal_and_vertical"] | None = None
    translation: float = 0.0
    rotation: float = 0.0
    zoom: float = 0.0
    contrast: float = 0.0


def augmentation_layers(augmentation: Augmentation | None) -> list[keras.layers.Layer]:
    """The preprocessing layers for ``augmentation``, in a fixed order."""
    if augmentation is None:
        return []
    a = augmentation
    layers: list[keras.layers.Layer] = []
    if a.flip:
        layers.append(keras.layers.RandomFlip(a.flip, name="random_flip"))
    if a.translation:
        layers.append(
            keras.layers.RandomTranslation(a.translation, a.translation, name="random_translation")
        )
    if a.rotation:
        layers.append(keras.layers.RandomRotation(a.rotation, name="random_rotation"))
    if a.zoom:
        layers.append(keras.layers.RandomZoom(a.zoom, name="random_zoom"))
    if a.contrast:
        layers.append(keras.layers.RandomContrast(a.contrast, name="random_contrast"))
    return layers


def augment(x, augmentation: Augmentation | None, name: str = "augmentation"):
    """Applies the augmentation block to the image tensor ``x`` (identity when there is none).

    The block is one nested ``keras.Sequential``, so a model summary shows it as one step.
    Images given as (H, W) get a channel axis first, as the random layers expect (H, W, C).
    """
    layers = augmentation_layers(augmentation)
    if not layers:
        return x
    if len(x.shape) == 3:
        x = keras.layers.Reshape((*x.shape[1:], 1), name=f"{name}_add_channel")(x)
    return keras.Sequential(layers, name=name)(x)


def image_inputs(
    input_shape: Sequence[int], augmentation: Augmentation | None
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """(the model's input, the images its convolutions see): augmented while training, with a
    channel axis for grey (H, W) images."""
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    return inputs, add_channel(augment(inputs, augmentation), input_shape)
