"""DenseNet: every layer sees the feature maps of all the layers before it in its block.

The idea (Huang et al. 2017; notes 004 L5): where ResNet adds, a = F(x) + x, DenseNet
concatenates, a = [F(x), x]. Each layer of a dense block adds only k new channels (the
*growth rate*, e.g. 12 or 32) to the growing stack, so the layers are narrow, features are
reused rather than re-learnt, and every layer has a short path to the loss. After ℓ layers a
block that started with d channels has d + ℓ·k. A *transition* between blocks
(BN → ReLU → 1×1 convolution → 2×2 average pooling) halves the resolution and, with
compression θ, keeps ⌊θ·C⌋ of the C channels.

Parameters (DenseNet-BC: each layer is BN → ReLU → 1×1 conv to 4k → BN → ReLU → 3×3 conv to
k, no biases; a BatchNorm on c channels has 4·c numbers, γ, β and the moving statistics). The
layer that sees c = d + i·k channels has 4·c + 4k·c + 4·4k + 9·4k·k; without the bottleneck
it is 4·c + 9·c·k. A transition on C channels has 4·C + C·⌊θ·C⌋.

Names follow keras/applications/densenet.py: ``{block}_block{i}_0_bn``, ``…_1_conv``,
``…_2_conv``, ``…_concat``; transitions ``{name}_bn``, ``{name}_conv``, ``{name}_pool``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_curriculum.models.augmentation import Augmentation, image_inputs
from keras_curriculum.models.layers import output_layer
from keras_curriculum.registry import register_model


def _bn_relu_conv(x, filters: int, kernel_size: int, *, regularizer, name: str, prefix: str):
    x = keras.layers.BatchNormalization(name=f"{name}_{prefix}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_{prefix}_relu")(x)
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer,
        name=f"{name}_{int(prefix) + 1}_conv",
    )(x)


def dense_layer(x, growth_rate: int, *, bottleneck: bool = True, regularizer=None, name: str):
    """One layer of a dense block: [BN-ReLU-1×1 conv to 4k] → BN-ReLU-3×3 conv to k, then
    concatenated to its input (``{name}_concat``)."""
    y = x
    if bottleneck:
        y = _bn_relu_conv(y, 4 * growth_rate, 1, regularizer=regularizer, name=name, prefix="0")
    y = _bn_relu_conv(
        y, growth_rate, 3, regularizer=regularizer, name=name, prefix="1" if bottleneck else "0"
    )
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(
    x,
    layers: int,
    growth_rate: int,
    *,
    bottleneck: bool = True,
    regularizer=None,
    name: str = "dense1",
):
    """``layers`` dense layers, each adding ``growth_rate`` channels: d → d + layers·k."""
    for index in range(1, layers + 1):
        x = dense_layer(
            x,
            growth_rate,
            bottleneck=bottleneck,
            regularizer=regularizer,
            name=f"{name}_block{index}",
        )
    return x


def transition_block(x, compression: float, *, regularizer=None, name: str = "transition1"):
    """BN → ReLU → 1×1 conv to ⌊compression·C⌋ channels → 2×2 average pooling."""
    channels = int(x.shape[-1] * compression)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    x = keras.layers.Conv2D(
        channels,
        1,
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer,
        name=f"{name}_conv",
    )(x)
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


@register_model("densenet")
def densenet(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    blocks: Sequence[int] = (6, 12, 8),
    growth_rate: int = 12,
    compression: float = 0.5,
    bottleneck: bool = True,
    stem_filters: int | None = None,
    stem_pool: bool = False,
    l2: float = 0.0,
    augmentation: Augmentation | None = None,
    output_activation: str | None = "softmax",
    name: str = "densenet",
) -> keras.Model:
    """DenseNet(-BC) for small images: 3×3 stem (→ 3×3/2 max pooling) → dense blocks with
    transitions between them → BN → ReLU → global average pooling → softmax.

    Args:
        blocks: layers in each dense block (DenseNet-121: 6, 12, 24, 16).
        growth_rate: channels each layer adds (k).
        compression: θ, the fraction of channels a transition keeps (1: DenseNet, 0.5: -BC).
        bottleneck: the 1×1 convolution to 4k channels before each 3×3 (the "B" of -BC).
        stem_filters: filters of the 3×3 stem (default 2k).
        stem_pool: halve the resolution after the stem with a 3×3 max pooling of stride 2, as
            the ImageNet DenseNets' stem does; every block then costs a quarter of the
            multiplications, and the parameters are unchanged.
        l2: L2 weight penalty on every kernel.
        augmentation: random image transformations active in training.
        output_activation: activation of the output layer (null: logits).
        name: the model's name.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs, x = image_inputs(input_shape, augmentation)
    x = keras.layers.Conv2D(
        stem_filters or 2 * growth_rate,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=regularizer,
        name="stem_conv",
    )(x)
    if stem_pool:
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for index, layers in enumerate(blocks, start=1):
        x = dense_block(
            x,
            layers,
            growth_rate,
            bottleneck=bottleneck,
            regularizer=regularizer,
            name=f"dense{index}",
        )
        if index < len(blocks):
            x = transition_block(x, compression, regularizer=regularizer, name=f"transition{index}")
    x = keras.layers.BatchNormalization(name="final_bn")(x)
    x = keras.layers.Activation("relu", name="final_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
