"""Convolutional network: stacks of convolution (+ pooling) blocks, then a dense head.

The idea (notes 000, 001 §17–§19, 002 §3, 003 §2): a convolution slides F learned K×K filters
over the image; each output pixel is a weighted sum over a K×K×d_in patch plus a bias, so a
layer has F·(K·K·d_in + 1) parameters whatever the image size. Along each axis the output
size is O = (I − K + 2P)/S + 1 (rounded down) for input I, kernel K, padding P and stride S.
Pooling shrinks the feature maps; the head either flattens them or averages each map to one
number (global average pooling, 002 §3.2.5) before the dense layers.

``head: none`` leaves the head out altogether (no classifier): the notes' single-layer
examples, such as 8 filters 5×5 on a 32×32×3 image (608 parameters), are configs of that.

Every CNN of the notes is a config of this factory, e.g. 001 B.6 (4,200,842 parameters)::

    model:
      name: cnn
      conv_blocks: [{filters: 32, kernel_size: 3, pool: max}]
      head: flatten
      dense_units: [512]
      dense_dropout: 0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import keras

from keras_curriculum.models.augmentation import Augmentation, image_inputs
from keras_curriculum.models.layers import activation_layer, output_layer
from keras_curriculum.registry import register_model


@dataclass
class ConvBlock:
    """One block: ``convs`` × (Conv2D → [BatchNorm] → activation), then pooling and dropout."""

    filters: int
    kernel_size: int | tuple[int, int] = 3
    strides: int | tuple[int, int] = 1
    padding: Literal["same", "valid"] | int = "same"
    convs: int = 1
    activation: str = "relu"
    batch_norm: bool = False
    pool: Literal["max", "average"] | None = None
    pool_size: int = 2
    dropout: float = 0.0


def conv_block(
    x, block: ConvBlock, *, kernel_initializer, regularizer, name: str, momentum: float = 0.99
):
    for index in range(1, block.convs + 1):
        padding = block.padding
        if isinstance(padding, int):
            # An explicit padding P (as in the notes' arithmetic) is zero-padding then 'valid'.
            if padding:
                x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad{index}")(x)
            padding = "valid"
        x = keras.layers.Conv2D(
            block.filters,
            block.kernel_size,
            strides=block.strides,
            padding=padding,
            use_bias=not block.batch_norm,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"{name}_conv{index}",
        )(x)
        if block.batch_norm:
            x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_bn{index}")(x)
        if block.activation != "linear":
            x = activation_layer(block.activation, name=f"{name}_{block.activation}{index}")(x)
    if block.pool == "max":
        x = keras.layers.MaxPooling2D(block.pool_size, name=f"{name}_maxpool")(x)
    elif block.pool == "average":
        x = keras.layers.AveragePooling2D(block.pool_size, name=f"{name}_avgpool")(x)
    if block.dropout:
        x = keras.layers.Dropout(block.dropout, name=f"{name}_dropout")(x)
    return x


@register_model("cnn")
def cnn(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    conv_blocks: Sequence[ConvBlock] = (
        ConvBlock(filters=32, pool="max"),
        ConvBlock(filters=64, pool="max"),
    ),
    head: Literal["flatten", "global_average", "none"] = "flatten",
    dense_units: Sequence[int] = (),
    dense_activation: str = "relu",
    dense_dropout: float = 0.0,
    kernel_initializer: str = "glorot_uniform",
    l2: float = 0.0,
    batch_norm_momentum: float = 0.99,
    output_activation: str | None = "softmax",
    augmentation: Augmentation | None = None,
    name: str = "cnn",
) -> keras.Model:
    """Convolutional classifier: conv blocks → Flatten or global average pooling → dense head.

    Args:
        input_shape: image shape (height, width[, channels]).
        num_classes: number of output units.
        conv_blocks: one block each: ``filters``, ``kernel_size``, ``strides``, ``padding``
            ('same', 'valid' or a number of zero pixels), ``convs``, ``activation``,
            ``batch_norm``, ``pool`` ('max', 'average' or null), ``pool_size``, ``dropout``.
        head: 'flatten', 'global_average' (one number per feature map), or 'none': the last
            feature maps, no dense layers and no classifier.
        dense_units: widths of the Dense layers of the head.
        dense_activation: activation of those layers.
        dense_dropout: dropout rate after each of those layers.
        kernel_initializer: initializer of the convolution and Dense kernels.
        l2: L2 weight penalty of those kernels.
        batch_norm_momentum: momentum of the blocks' BatchNorm moving statistics (Keras'
            0.99 averages over ~100 steps; a run of few steps an epoch needs less, e.g. 0.9).
        output_activation: activation of the output layer (null: logits).
        augmentation: random image transformations active in training.
        name: the model's name.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs, x = image_inputs(input_shape, augmentation)
    for index, block in enumerate(conv_blocks, start=1):
        x = conv_block(
            x,
            block,
            kernel_initializer=kernel_initializer,
            regularizer=regularizer,
            name=f"block{index}",
            momentum=batch_norm_momentum,
        )
    if head == "none":
        return keras.Model(inputs, x, name=name)
    if head == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    for index, units in enumerate(dense_units, start=1):
        x = keras.layers.Dense(
            units,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"dense{index}",
        )(x)
        x = activation_layer(dense_activation, name=f"dense{index}_{dense_activation}")(x)
        if dense_dropout:
            x = keras.layers.Dropout(dense_dropout, name=f"dense{index}_dropout")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
