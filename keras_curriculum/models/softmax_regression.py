"""Softmax regression (multinomial logistic regression): the "generalised perceptron".

The idea (notes 001 §5.1, §7.2): replace the perceptron's Heaviside step by a smooth function
and its mistake-driven rule by gradient descent on the cross-entropy. For two classes the unit
becomes a sigmoid, p(y = 1 | x) = σ(w·x + b) = 1 / (1 + e^−(w·x + b)) — logistic regression; for
K classes each class k gets its own score zₖ = wₖ·x + bₖ and the softmax turns the scores into
probabilities, p(y = k | x) = exp(zₖ) / Σⱼ exp(zⱼ). The loss −log p(y | x) is convex in (W, b),
so gradient descent with a small enough learning rate finds the global minimum.

It is a network without hidden layers: one Dense layer, K·(d + 1) parameters (7,850 on
28×28 images with 10 classes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import keras

from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_model


@register_model("softmax_regression")
def softmax_regression(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    output: Literal["softmax", "sigmoid"] = "softmax",
    l2: float = 0.0,
    name: str = "softmax_regression",
) -> keras.Model:
    """Softmax regression: Flatten → one Dense layer → softmax (logistic regression with sigmoid).

    Args:
        input_shape: shape of one input (flattened first).
        num_classes: number of classes.
        output: 'softmax' over the classes, or 'sigmoid': with two classes one sigmoid unit,
            logistic regression trained with binary cross-entropy.
        l2: L2 weight penalty of the kernel.
        name: the model's name.
    """
    if output == "sigmoid" and num_classes != 2:
        raise ConfigError(
            "model.output", f"sigmoid is logistic regression for 2 classes, not {num_classes}"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    head = keras.layers.Dense(
        1 if output == "sigmoid" else num_classes,
        activation=output,
        kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
        dtype="float32",  # as models.output_layer: stable probabilities under mixed precision
        name="predictions",
    )
    return keras.Model(inputs, head(x), name=name)
