"""Multi-layer perceptron: stacked fully-connected layers.

The idea (notes 000 "ANN", 001 §6–§9, 004 L2): each layer computes an affine map followed by a
non-linearity, h⁽ˡ⁾ = φ(W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾), and the last layer turns scores into class
probabilities with a softmax, p(y = k | x) = exp(zₖ) / Σⱼ exp(zⱼ). A Dense layer with n_in inputs
and n_out units has n_out·(n_in + 1) parameters: the notes' first network, 64 → 64 → 10, has
64·65 + 10·65 = 4,810.

Regularisers the notes teach are options: dropout, batch normalisation, L1/L2 weight penalties
and the choice of initialiser (RandomNormal(0.001) vs Glorot vs He). The activations are Keras'
(sigmoid, tanh, relu, elu, softplus, …), except ``leaky_relu``, which uses the notes' slope
α = 0.01 (001 §9) rather than Keras' default 0.2. The notes' 001 App A network is
784 → 512 → 512 → 10 with dropout 0.2 (669,706 parameters).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_curriculum.models.augmentation import Augmentation, augment
from keras_curriculum.models.layers import activation_layer, output_layer
from keras_curriculum.registry import register_model


def dense_block(
    x,
    units: int,
    *,
    activation: str,
    dropout: float,
    batch_norm: bool,
    regularizer,
    initializer,
    name: str,
):
    """Dense → (BatchNorm) → activation → (Dropout)."""
    x = keras.layers.Dense(
        units,
        use_bias=not batch_norm,  # batch norm's β replaces the bias
        kernel_initializer=initializer,
        kernel_regularizer=regularizer,
        name=f"{name}_dense",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    x = activation_layer(activation, name=f"{name}_{activation}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


@register_model("mlp")
def mlp(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    hidden_units: Sequence[int] = (64,),
    activation: str = "relu",
    dropout: float = 0.0,
    input_dropout: float = 0.0,
    batch_norm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    kernel_initializer: str | dict = "glorot_uniform",
    output_activation: str | None = "softmax",
    augmentation: Augmentation | None = None,
    name: str = "mlp",
) -> keras.Model:
    """Fully-connected classifier: Flatten → hidden Dense blocks → softmax.

    Args:
        input_shape: shape of one input (flattened first).
        num_classes: number of output units.
        hidden_units: width of each hidden Dense layer, in order.
        activation: activation of the hidden layers (leaky_relu with the notes' slope 0.01).
        dropout: dropout rate after each hidden layer.
        input_dropout: dropout rate on the flattened input.
        batch_norm: BatchNormalization before each hidden activation.
        l1: L1 weight penalty of the Dense kernels.
        l2: L2 weight penalty of the Dense kernels.
        kernel_initializer: initializer of the Dense kernels (a name or a Keras config).
        output_activation: activation of the output layer (null: logits).
        augmentation: random image transformations active in training (image inputs only).
        name: the model's name.
    """
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = augment(inputs, augmentation)
    x = keras.layers.Flatten(name="flatten")(x) if len(input_shape) > 1 else x
    if input_dropout:
        x = keras.layers.Dropout(input_dropout, name="input_dropout")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = dense_block(
            x,
            units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            regularizer=regularizer,
            initializer=kernel_initializer,
            name=f"hidden{index}",
        )
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
