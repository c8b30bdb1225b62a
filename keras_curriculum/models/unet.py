"""U-Net and its skip-less baseline (FCN): per-pixel classification for semantic segmentation.

The idea (notes 000 "U-Net"; 002 §4.1.2–§4.1.3): a *contracting path* of conv blocks and 2×2
max pooling captures *what* is in the image (the channels double at each level while the
resolution halves), a *bottleneck* holds the coarsest, most semantic features, and an
*expansive path* up-samples back to the input resolution. Each level of the expansive path
concatenates the up-sampled features with the contracting-path features of the same size
(the *skip connections*), so fine detail — *where* — is not lost in the bottleneck:

    e_l = block(pool(e_{l−1})),                 l = 1 … depth      (encoder, F·2^l channels)
    d_l = block(concat[up(d_{l+1}), e_l])                          (decoder, U-Net)
    d_l = block(up(d_{l+1}))                                       (decoder, FCN: no skip)
    ŷ(x, y) = softmax_c(W · d_0(x, y) + b)                         (output (H, W, C))

Up-sampling is either a learned 2×2 transposed convolution with stride 2 (002 §4.1.2, item 3)
or nearest-neighbour up-sampling followed by a 3×3 convolution (item 1). With ``depth``
poolings the input height and width must be multiples of 2^depth, so that every skip meets a
decoder map of exactly its own size. A binary task may use one sigmoid channel
(``output_activation: sigmoid``: P(foreground) per pixel) instead of a two-way softmax.

The ``fcn`` factory is the same encoder and decoder without the skips: train both on the same
data to see what the skips buy (sharper boundaries, small objects kept).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

import keras

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.layers import add_channel
from keras_curriculum.registry import register_model

Upsampling = Literal["transpose", "upsample"]


def double_conv_block(
    x,
    filters: int,
    *,
    batch_norm: bool,
    dropout: float,
    activation: str,
    kernel_initializer: str,
    name: str,
):
    """Two 3×3 'same' convolutions (each → [BatchNorm] → activation), then optional dropout."""
    for index in (1, 2):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=not batch_norm,  # BatchNorm's shift replaces the bias
            kernel_initializer=kernel_initializer,
            name=f"{name}_conv{index}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_bn{index}")(x)
        x = keras.layers.Activation(activation, name=f"{name}_{activation}{index}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def upsample_block(x, filters: int, *, mode: Upsampling, kernel_initializer: str, name: str):
    """Doubles the height and width: a learned transposed convolution, or nearest-neighbour
    up-sampling followed by a 3×3 convolution."""
    if mode == "transpose":
        return keras.layers.Conv2DTranspose(
            filters,
            2,
            strides=2,
            padding="same",
            kernel_initializer=kernel_initializer,
            name=f"{name}_transpose",
        )(x)
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    return keras.layers.Conv2D(
        filters, 3, padding="same", kernel_initializer=kernel_initializer, name=f"{name}_upconv"
    )(x)


def check_input_size(input_shape: Sequence[int | None], depth: int, field: str) -> None:
    """Raises a ConfigError naming ``field`` unless height and width are multiples of 2^depth."""
    if depth < 1:
        raise ConfigError("model.depth", f"expected at least 1 level, got {depth}")
    if len(input_shape) not in (2, 3):
        raise ConfigError(
            field, f"expected an image shape (height, width[, channels]), got {tuple(input_shape)}"
        )
    factor = 2**depth
    height, width = input_shape[0], input_shape[1]
    bad = [size for size in (height, width) if size is not None and size % factor]
    if bad:
        raise ConfigError(
            field,
            f"input size {height}×{width} is not divisible by 2^depth = {factor} (model.depth = {depth});"
            f" use a multiple of {factor} or a smaller model.depth",
        )


@register_model("unet")
def unet(
    *,
    input_shape: Sequence[int | None],
    num_classes: int,
    depth: int = 4,
    base_filters: int = 16,
    batch_norm: bool = True,
    dropout: float = 0.0,
    bottleneck_dropout: float = 0.0,
    upsampling: Upsampling = "transpose",
    activation: str = "relu",
    kernel_initializer: str = "he_normal",
    output_activation: Literal["softmax", "sigmoid"] = "softmax",
    skips: bool = True,
    input_shape_field: str = "model.input_shape",
    name: str = "unet",
) -> keras.Model:
    """U-Net: contracting path, bottleneck, expansive path with skip concatenation; (H, W, C) output.

    Args:
        input_shape: image shape (height, width[, channels]); height and width must be
            multiples of 2^depth.
        num_classes: classes per pixel, background (0) included.
        depth: number of 2×2 poolings (levels of the contracting path).
        base_filters: filters of the first level; they double at each level.
        batch_norm: BatchNormalization after each convolution (the convolution then has no bias).
        dropout: dropout rate after each encoder and decoder block.
        bottleneck_dropout: dropout rate after the bottleneck block.
        upsampling: 'transpose' (learned 2×2 transposed convolution) or 'upsample'
            (nearest-neighbour up-sampling, then a 3×3 convolution).
        activation: activation of the convolutions.
        kernel_initializer: initializer of the convolution kernels.
        output_activation: 'softmax' over ``num_classes`` channels, or 'sigmoid': one channel
            P(foreground) for a binary mask (``num_classes`` 2).
        skips: concatenate each level's encoder features into the decoder (U-Net); false
            gives the skip-less FCN baseline.
        input_shape_field: the config field named when the input size does not fit (a
            dataset sets it to its crop or image size option).
        name: the model's name.
    """
    check_input_size(input_shape, depth, input_shape_field)
    if output_activation == "sigmoid" and num_classes != 2:
        raise ConfigError(
            "model.output_activation",
            f"one sigmoid channel is for binary masks (num_classes 2), got num_classes {num_classes}",
        )
    block = dict(
        batch_norm=batch_norm, activation=activation, kernel_initializer=kernel_initializer
    )

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = add_channel(inputs, input_shape)

    # Contracting path: the skip is taken before each pooling, at full resolution of its level.
    skip_maps = []
    for level in range(depth):
        x = double_conv_block(
            x, base_filters * 2**level, dropout=dropout, name=f"encoder{level + 1}", **block
        )
        skip_maps.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"encoder{level + 1}_maxpool")(x)

    x = double_conv_block(
        x, base_filters * 2**depth, dropout=bottleneck_dropout, name="bottleneck", **block
    )

    # Expansive path: back up level by level, joining each level's skip (U-Net) or not (FCN).
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        x = upsample_block(
            x,
            filters,
            mode=upsampling,
            kernel_initializer=kernel_initializer,
            name=f"decoder{level + 1}",
        )
        if skips:
            x = keras.layers.Concatenate(name=f"decoder{level + 1}_skip")([x, skip_maps[level]])
        x = double_conv_block(x, filters, dropout=dropout, name=f"decoder{level + 1}", **block)

    # A 1×1 convolution is a dense layer applied at every pixel; float32 for mixed precision.
    channels = 1 if output_activation == "sigmoid" else num_classes
    outputs = keras.layers.Conv2D(
        channels, 1, activation=output_activation, dtype="float32", name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name)


# The FCN is the U-Net without its skips: one signature, registered twice.
register_model(
    "fcn",
    description="Fully-convolutional encoder–decoder without skips: the U-Net baseline "
    "(same layers, no concat).",
)(functools.partial(unet, skips=False, name="fcn"))
