"""Layers shared by several model families: the classification head, activations by name, and
the channel axis a grey image lacks."""

from __future__ import annotations

import keras

LEAKY_RELU_SLOPE = 0.01  # the notes' α for f(z) = max(αz, z) (001 §9), not Keras' 0.2


def output_layer(
    units: int, activation: str | None, name: str = "predictions"
) -> keras.layers.Dense:
    """The classification head. It computes in float32 even under a mixed-precision policy,
    so softmax/sigmoid outputs and the loss stay numerically stable."""
    return keras.layers.Dense(units, activation=activation, name=name, dtype="float32")


def activation_layer(activation: str, name: str) -> keras.layers.Layer:
    """The activation as a layer; ``leaky_relu`` with the notes' slope 0.01."""
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE, name=name)
    return keras.layers.Activation(activation, name=name)


def add_channel(x, input_shape, name: str = "add_channel"):
    """(H, W) images → (H, W, 1), so 2-D convolutions see one channel; others pass through."""
    if len(input_shape) == 2:
        return keras.layers.Reshape((*input_shape, 1), name=name)(x)
    return x
