"""Residual networks: learn the change F(x), not the whole mapping H(x).

The idea (He et al. 2016; notes 000, 001 §20.2, 002 §3.3, 004 L5): a block adds its input to
the output of a few layers, a = F(x) + x, so a block that has nothing to add learns F ≈ 0 and
the identity passes through; gradients reach early layers through the shortcuts, and networks
of 50 to 1000 layers train. The basic block is conv-BN-ReLU-conv-BN, add, ReLU. When the block
changes the number of channels or the resolution, the shortcut becomes a 1×1 convolution with
the same stride (a *projection*), since x and F(x) must have the same shape to be added.

The *bottleneck* block (He et al. §4.1; 004 L5) squeezes the channels with a 1×1 convolution,
does the expensive 3×3 convolution on the few channels and expands again with a 1×1
convolution: on 28×28×256, 1×1→64 then 3×3→256 costs 164,160 parameters against 590,080 for
one direct 3×3→256 convolution.

Factories:

- ``resnet``: ResNet-v1 for small images (He et al. §4.2): a 3×3 stem with 16 filters, three
  stages of n blocks with 16, 32 and 64 filters (each later stage halves the resolution),
  global average pooling, softmax: 6n + 2 weighted layers, so depth 20, 32, 44, 56, 110. The
  paper's recipe: He initialisation, BN after every convolution, weight decay 1e-4, SGD with
  momentum 0.9, learning rate 0.1 divided by 10 at 50 % and 75 % of training, no dropout.
  ``shortcuts=False`` (``model.shortcuts: false``) gives the paper's *plain* baseline: the
  same layers, each block's output only ReLU(F(x)), no projections; deeper plain nets train
  worse (the degradation problem), the residual ones do not.
- ``resnet_image_to_image``: the notes' (000) residual network that maps an image to an image:
  Conv(64, 3×3) → two residual blocks of 64 filters → Conv(3, 3×3), all 'same'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import keras

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.augmentation import Augmentation, image_inputs
from keras_curriculum.models.layers import add_channel, output_layer
from keras_curriculum.registry import register_model


def conv_bn(
    x,
    filters: int,
    kernel_size: int,
    *,
    strides: int = 1,
    activation: str | None = "relu",
    use_bias: bool = False,
    kernel_initializer="he_normal",
    regularizer=None,
    name: str,
):
    """Conv2D ('same') → BatchNorm → optional ReLU: the unit every ResNet is made of."""
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        name=f"{name}_conv",
    )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def shortcut(x, filters: int, *, strides: int, kernel_initializer, regularizer, name: str):
    """The identity when shapes match, else a 1×1 projection (conv with the block's stride + BN)."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(
        x,
        filters,
        1,
        strides=strides,
        activation=None,
        kernel_initializer=kernel_initializer,
        regularizer=regularizer,
        name=f"{name}_projection",
    )


def merge(x, residual, *, strides: int, shortcuts: bool, name: str, **options):
    """ReLU(F(x) + shortcut(x)), the end of every residual block; without ``shortcuts``
    ReLU(F(x)) alone, so the same layers form a plain stack. ``options``: the projection's
    ``kernel_initializer`` and ``regularizer`` (``use_bias`` is ignored: the projection is
    followed by BN)."""
    if shortcuts:
        skip = shortcut(
            x,
            residual.shape[-1],
            strides=strides,
            kernel_initializer=options["kernel_initializer"],
            regularizer=options["regularizer"],
            name=name,
        )
        residual = keras.layers.Add(name=f"{name}_add")([residual, skip])
    return keras.layers.Activation("relu", name=f"{name}_out")(residual)


def residual_block(
    x,
    filters: int,
    *,
    kernel_size: int = 3,
    strides: int = 1,
    use_bias: bool = False,
    kernel_initializer="he_normal",
    regularizer=None,
    shortcuts: bool = True,
    name: str = "residual",
):
    """a = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)) — the basic block; without
    ``shortcuts``, a = ReLU(F(x)): the same layers as a plain stack."""
    options = dict(
        use_bias=use_bias, kernel_initializer=kernel_initializer, regularizer=regularizer
    )
    residual = conv_bn(x, filters, kernel_size, strides=strides, name=f"{name}_1", **options)
    residual = conv_bn(residual, filters, kernel_size, activation=None, name=f"{name}_2", **options)
    return merge(x, residual, strides=strides, shortcuts=shortcuts, name=name, **options)


def bottleneck_block(
    x,
    filters: int,
    *,
    strides: int = 1,
    expansion: int = 4,
    use_bias: bool = False,
    kernel_initializer="he_normal",
    regularizer=None,
    shortcuts: bool = True,
    name: str = "bottleneck",
):
    """1×1 squeeze to ``filters`` → 3×3 (with the stride) → 1×1 expand to ``expansion·filters``,
    each followed by BN (and ReLU but the last), added to the shortcut, then ReLU (without
    ``shortcuts``: only the ReLU, a plain stack)."""
    options = dict(
        use_bias=use_bias, kernel_initializer=kernel_initializer, regularizer=regularizer
    )
    residual = conv_bn(x, filters, 1, name=f"{name}_squeeze", **options)
    residual = conv_bn(residual, filters, 3, strides=strides, name=f"{name}_conv3x3", **options)
    residual = conv_bn(
        residual, expansion * filters, 1, activation=None, name=f"{name}_expand", **options
    )
    return merge(x, residual, strides=strides, shortcuts=shortcuts, name=name, **options)


def stack(x, filters: int, blocks: int, *, block_fn, first_strides: int, name: str, **options):
    """``blocks`` blocks made by ``block_fn`` (``residual_block`` or ``bottleneck_block``), the
    first with ``first_strides``: one stage, as ``stack_fn`` builds them in Keras'
    ``applications/resnet.py``. ``options`` go to every block."""
    for index in range(1, blocks + 1):
        strides = first_strides if index == 1 else 1
        x = block_fn(x, filters, strides=strides, name=f"{name}_block{index}", **options)
    return x


BLOCKS = {"basic": residual_block, "bottleneck": bottleneck_block}
LAYERS_PER_BLOCK = {"basic": 2, "bottleneck": 3}


@register_model("resnet")
def resnet(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    depth: int = 20,
    block: Literal["basic", "bottleneck"] = "basic",
    base_filters: int = 16,
    l2: float = 1e-4,
    augmentation: Augmentation | None = None,
    output_activation: str | None = "softmax",
    shortcuts: bool = True,
    name: str | None = None,
) -> keras.Model:
    """ResNet-v1 for small images (He et al. §4.2): ResNet-20/32/56, 16/32/64 filters.

    Depth is 6n + 2 with basic blocks (20, 32, 56, 110) or 9n + 2 with bottleneck blocks
    (164); the three stages have ``base_filters`` × 1, 2 and 4 filters. ``shortcuts: false``
    builds the *plain* network of He et al. §4.2: the same layers without the additions (so
    without the projection shortcuts either), to show the degradation the shortcuts fix.

    Args:
        input_shape: image shape (height, width[, channels]).
        num_classes: number of output units.
        depth: weighted layers: 6n + 2 with basic blocks, 9n + 2 with bottleneck blocks.
        block: 'basic' (two 3×3 convolutions) or 'bottleneck' (1×1 squeeze, 3×3, 1×1
            expand to 4× the filters).
        base_filters: filters of the first stage (the next two have 2× and 4×).
        l2: L2 weight decay of the convolution kernels.
        augmentation: random image transformations active in training.
        output_activation: activation of the output layer (null: logits).
        shortcuts: add each block's input to its output; false gives the plain network.
        name: the model's name (default ``resnet<depth>`` or ``plain<depth>``).
    """
    layers_per_block = LAYERS_PER_BLOCK[block]
    blocks_per_stage, remainder = divmod(depth - 2, 3 * layers_per_block)
    if remainder or blocks_per_stage < 1:
        rule = "6n + 2 (20, 32, 44, 56, 110)" if block == "basic" else "9n + 2 (29, 56, 164)"
        raise ConfigError("model.depth", f"{block} blocks need a depth of {rule}, got {depth}")
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs, x = image_inputs(input_shape, augmentation)
    x = conv_bn(x, base_filters, 3, regularizer=regularizer, name="stem")
    for stage in range(3):
        x = stack(
            x,
            base_filters * 2**stage,
            blocks_per_stage,
            block_fn=BLOCKS[block],
            first_strides=1 if stage == 0 else 2,  # each later stage halves H and W
            regularizer=regularizer,
            shortcuts=shortcuts,
            name=f"stage{stage + 1}",
        )
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    default_name = f"resnet{depth}" if shortcuts else f"plain{depth}"
    return keras.Model(inputs, outputs, name=name or default_name)


@register_model("resnet_image_to_image")
def resnet_image_to_image(
    *,
    input_shape: Sequence[int],
    filters: int = 64,
    blocks: int = 2,
    kernel_size: int = 3,
    output_channels: int | None = None,
    output_activation: str | None = None,
    name: str = "resnet_image_to_image",
) -> keras.Model:
    """The notes' (000) image-to-image residual network: Conv → residual blocks → Conv.

    Conv(filters) → ``blocks`` residual blocks → Conv(output_channels, default: the input's),
    all 3×3 'same' with biases, as in the notes' code. Train it with ``data.targets: inputs``
    (or a denoising/restoration target).

    Args:
        input_shape: image shape (height, width[, channels]).
        filters: filters of the first convolution and of every residual block.
        blocks: number of residual blocks.
        kernel_size: kernel size of every convolution.
        output_channels: channels of the output image (null: the input's).
        output_activation: activation of the output convolution (null: linear).
        name: the model's name.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = add_channel(inputs, input_shape)
    channels = output_channels or x.shape[-1]
    x = keras.layers.Conv2D(filters, kernel_size, padding="same", name="stem_conv")(x)
    for index in range(1, blocks + 1):
        x = residual_block(
            x,
            filters,
            kernel_size=kernel_size,
            use_bias=True,
            kernel_initializer="glorot_uniform",
            name=f"residual{index}",
        )
    outputs = keras.layers.Conv2D(
        channels,
        kernel_size,
        padding="same",
        activation=output_activation,
        dtype="float32",
        name="output_conv",
    )(x)
    return keras.Model(inputs, outputs, name=name)
