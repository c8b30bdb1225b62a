"""Inception (GoogLeNet): let the network choose its kernel size by running several side by side.

The idea (Szegedy et al. 2014; notes 000, 001 §20.1, 002 §3.3.3): an Inception module runs a
1×1, a 3×3 and a 5×5 convolution and a 3×3 max pooling on the same input in parallel and
concatenates their outputs along the channels. Run directly on many channels the 5×5 branch
is ruinous, so the *dimension-reduced* module first squeezes the channels with 1×1
convolutions (the bottleneck) before the 3×3 and 5×5 ones, and projects the pooled branch
with a 1×1 convolution so it does not carry all input channels through.

The notes' arithmetic (002 §3.3.3): a 5×5 'same' convolution from 28×28×192 to 32 channels
costs 28·28·32 · 5·5·192 ≈ 120.4 M multiplications; squeezing to 16 channels first costs
28·28·16 · 192 ≈ 2.4 M plus 28·28·32 · 5·5·16 ≈ 10.0 M, 12.4 M in all, a tenth. The weights
shrink alike: 5·5·192·32 = 153,600 against 192·16 + 5·5·16·32 = 15,872.

Parameters of one module on d_in channels (each convolution followed by BatchNorm, so no
bias; 4 per channel for γ, β and the moving statistics)::

    d_in·f1 + d_in·r3 + 9·r3·f3 + d_in·r5 + 25·r5·f5 + d_in·p
      + 4·(f1 + r3 + f3 + r5 + f5 + p)

and its output has f1 + f3 + f5 + p channels. GoogLeNet's module 3a on 28×28×192 with
(f1, r3, f3, r5, f5, p) = (64, 96, 128, 16, 32, 32) gives 28×28×256.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras

from keras_curriculum.models.augmentation import Augmentation, image_inputs
from keras_curriculum.models.layers import output_layer
from keras_curriculum.models.resnet import conv_bn
from keras_curriculum.registry import register_model


@dataclass
class InceptionSpec:
    """One module's widths: the 1×1 branch, the 3×3 and 5×5 branches after their 1×1
    reductions, and the 1×1 projection after pooling."""

    filters_1x1: int
    reduce_3x3: int
    filters_3x3: int
    reduce_5x5: int
    filters_5x5: int
    pool_proj: int


def inception_block(x, spec: InceptionSpec, *, regularizer=None, name: str = "inception"):
    """The dimension-reduced Inception module; branches concatenated on the channel axis.

    Layers are named ``{name}_1x1``, ``{name}_3x3_reduce``, ``{name}_3x3``, ``{name}_5x5_reduce``,
    ``{name}_5x5``, ``{name}_pool``, ``{name}_pool_proj`` (each with ``_conv``/``_bn``/``_relu``)
    and ``{name}_concat``.
    """

    def unit(y, filters: int, kernel_size: int, branch: str):
        return conv_bn(y, filters, kernel_size, regularizer=regularizer, name=f"{name}_{branch}")

    branch_1x1 = unit(x, spec.filters_1x1, 1, "1x1")
    branch_3x3 = unit(unit(x, spec.reduce_3x3, 1, "3x3_reduce"), spec.filters_3x3, 3, "3x3")
    branch_5x5 = unit(unit(x, spec.reduce_5x5, 1, "5x5_reduce"), spec.filters_5x5, 5, "5x5")
    pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = unit(pooled, spec.pool_proj, 1, "pool_proj")
    return keras.layers.Concatenate(name=f"{name}_concat")(
        [branch_1x1, branch_3x3, branch_5x5, branch_pool]
    )


SMALL_STAGES = (
    (InceptionSpec(32, 32, 48, 8, 16, 16),),
    (InceptionSpec(64, 48, 96, 16, 32, 32), InceptionSpec(64, 64, 96, 16, 32, 32)),
)


@register_model("inception")
def inception(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    stem_filters: int = 32,
    stem_pool: bool = False,
    stages: Sequence[Sequence[InceptionSpec]] = SMALL_STAGES,
    dropout: float = 0.2,
    l2: float = 0.0,
    augmentation: Augmentation | None = None,
    output_activation: str | None = "softmax",
    name: str = "inception",
) -> keras.Model:
    """A small GoogLeNet: 3×3 stem (→ 3×3/2 max pooling) → stages of Inception modules, 2×2 max
    pooling between stages → global average pooling → dropout → softmax.

    Args:
        stem_filters: filters of the 3×3 stem convolution.
        stem_pool: halve the resolution after the stem with a 3×3 max pooling of stride 2, as
            GoogLeNet's stem does before its first module; every module then costs a quarter
            of the multiplications, and the parameters are unchanged.
        stages: per stage, the modules' widths (``InceptionSpec`` mappings: filters_1x1,
            reduce_3x3, filters_3x3, reduce_5x5, filters_5x5, pool_proj).
        dropout: dropout before the classifier (GoogLeNet: 0.4).
        l2: L2 weight penalty on every kernel.
        augmentation: random image transformations active in training.
        output_activation: activation of the output layer (null: logits).
        name: the model's name.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs, x = image_inputs(input_shape, augmentation)
    x = conv_bn(x, stem_filters, 3, regularizer=regularizer, name="stem")
    if stem_pool:
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage_index, stage in enumerate(stages, start=1):
        if stage_index > 1:
            x = keras.layers.MaxPooling2D(2, name=f"stage{stage_index}_pool")(x)
        for block_index, spec in enumerate(stage, start=1):
            x = inception_block(
                x, spec, regularizer=regularizer, name=f"stage{stage_index}_inception{block_index}"
            )
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
