"""VGG: depth from stacks of small 3×3 convolutions, halving the resolution after each stack.

The idea (Simonyan & Zisserman 2014; notes 002 §3.3.3, 004 L5): two stacked 3×3 convolutions see
a 5×5 patch and three see 7×7, with fewer parameters and more non-linearities than one large
kernel. On d channels in and out, one 5×5 layer has 25·d² weights, two 3×3 layers 2·9·d² = 18·d²
(28 % fewer); one 7×7 layer 49·d², three 3×3 layers 27·d² (45 % fewer). A block is n × (3×3
convolution 'same' → [BatchNorm] → ReLU) then 2×2 max pooling; each later block doubles the
filters, so the cost per layer stays about even while H·W quarters.

Parameters of one block with F filters on d_in channels and n convolutions:
F·(9·d_in + 1) + (n − 1)·F·(9·F + 1) without BatchNorm; with BatchNorm the convolutions drop
their bias and each adds 4·F (γ, β, moving mean and variance): 9·d_in·F + (n − 1)·9·F² + 4·n·F.

    model:
      name: vgg
      filters: [32, 64, 128]      # one block each
      convs_per_block: 2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import keras

from keras_curriculum.models.augmentation import Augmentation, image_inputs
from keras_curriculum.models.cnn import ConvBlock, conv_block
from keras_curriculum.models.layers import activation_layer, output_layer
from keras_curriculum.registry import register_model


def vgg_block(
    x,
    filters: int,
    *,
    convs: int = 2,
    batch_norm: bool = True,
    dropout: float = 0.0,
    kernel_initializer="he_normal",
    regularizer=None,
    name: str = "block1",
):
    """``convs`` × (Conv 3×3 'same' → [BN] → ReLU) → MaxPool 2×2 → [Dropout].

    Layers are named ``{name}_conv{i}``, ``{name}_bn{i}``, ``{name}_relu{i}``, ``{name}_maxpool``.
    """
    block = ConvBlock(
        filters=filters,
        kernel_size=3,
        convs=convs,
        batch_norm=batch_norm,
        pool="max",
        dropout=dropout,
    )
    return conv_block(
        x, block, kernel_initializer=kernel_initializer, regularizer=regularizer, name=name
    )


@register_model("vgg")
def vgg(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    filters: Sequence[int] = (32, 64, 128),
    convs_per_block: int = 2,
    batch_norm: bool = True,
    block_dropout: float = 0.0,
    head: Literal["flatten", "global_average"] = "global_average",
    dense_units: Sequence[int] = (),
    dense_dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    augmentation: Augmentation | None = None,
    output_activation: str | None = "softmax",
    name: str = "vgg",
) -> keras.Model:
    """VGG-style classifier: one block of 3×3 convolutions per entry of ``filters``, then a head.

    Args:
        filters: the filters of each block (its length is the number of blocks).
        convs_per_block: 3×3 convolutions in each block (VGG-16 uses 2 or 3).
        batch_norm: BatchNorm after each convolution (not in the 2014 paper; it trains faster).
        block_dropout: dropout after each block's pooling.
        head: ``flatten`` (VGG's own) or ``global_average`` (far fewer parameters).
        dense_units: hidden dense layers of the head (VGG-16: 4096, 4096).
        dense_dropout: dropout after each hidden dense layer.
        l1: L1 weight penalty λ₁·Σ|w| on every kernel (drives weights to exactly 0).
        l2: L2 weight penalty λ₂·Σw² on every kernel (shrinks them all).
        augmentation: random image transformations active in training.
        output_activation: activation of the output layer (null: logits).
        name: the model's name.
    """
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if l1 or l2 else None
    inputs, x = image_inputs(input_shape, augmentation)
    for index, block_filters in enumerate(filters, start=1):
        x = vgg_block(
            x,
            block_filters,
            convs=convs_per_block,
            batch_norm=batch_norm,
            dropout=block_dropout,
            regularizer=regularizer,
            name=f"block{index}",
        )
    if head == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    for index, units in enumerate(dense_units, start=1):
        x = keras.layers.Dense(units, kernel_regularizer=regularizer, name=f"dense{index}")(x)
        x = activation_layer("relu", name=f"dense{index}_relu")(x)
        if dense_dropout:
            x = keras.layers.Dropout(dense_dropout, name=f"dense{index}_dropout")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
