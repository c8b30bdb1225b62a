"""Rosenblatt's perceptron (1958): a linear threshold unit that learns from its mistakes.

The idea (notes 001 §2, 002 §1.1, 004 L1): the unit fires when the weighted sum of its inputs
reaches the threshold, ŷ = H(w·x + b) with the Heaviside step H(z) = 1 for z ≥ 0, else 0.
The perceptron learning algorithm (001 §2.1) visits one example at a time and changes the
weights only when the example is on the wrong side, with y ∈ {−1, +1}:

    if y·(w·x + b) ≤ 0:   w ← w + α·y·x,   b ← b + α·y

This is stochastic gradient descent with batch size 1 on the *perceptron criterion*
L = max(0, −y·(w·x + b)), whose gradient is −y·x on a mistake and 0 otherwise. So here the
algorithm is a Keras model plus optimizer settings (``sgd``, learning rate α, batch size 1), not
a hand-written loop. The same rule is what scikit-learn's ``Perceptron`` runs.

One boundary matters: the update also happens when the margin is exactly 0. From the usual
zero initial weights every margin is 0, and the plain max(0, ·) has zero (sub)gradient there,
so gradient descent on it would never move. :meth:`Perceptron.compute_loss` therefore writes
the criterion as "−y·z where y·z ≤ 0", whose gradient at the boundary is the update above.
(The notes' H(0) = 1 would call a positive example on the boundary correct; scikit-learn and
this model count it as a mistake, which only matters while the weights are still zero.)

Several classes are m independent units (001 §2.2): unit k learns "class k or not" with its own
perceptron rule; the model outputs the m Heaviside bits. Labels may be class indices (one-hot
targets ±1 per unit; for one unit, 0/1 or −1/+1) or, for multi-label problems, 0/1 vectors.

    model:    {name: perceptron}
    data:     {name: iris, classes: [0, 1], batch_size: 1, shuffle_buffer: 1}
    training: {optimizer: {name: sgd, learning_rate: 1.0}, loss: null, metrics: [accuracy]}
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_curriculum.registry import register_model


@keras.saving.register_keras_serializable(package="keras_curriculum")
class Perceptron(keras.Model):
    """m linear threshold units. ``call`` returns H(w·x + b); the loss is the perceptron
    criterion on the net input w·x + b, so the model needs no loss from the config."""

    def __init__(self, units: int = 1, kernel_initializer: str = "zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_initializer = kernel_initializer
        self.flatten = keras.layers.Flatten(name="flatten")
        self.net_input = keras.layers.Dense(
            units,
            kernel_initializer=kernel_initializer,
            bias_initializer="zeros",
            dtype="float32",
            name="net_input",
        )

    def build(self, input_shape):
        self.flatten.build(input_shape)
        self.net_input.build(self.flatten.compute_output_shape(input_shape))
        super().build(input_shape)

    def scores(self, x):
        """The net input z = w·x + b of every unit."""
        return self.net_input(self.flatten(x))

    def call(self, x):
        return heaviside(self.scores(x))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z = self.scores(x)
        signs = self.signed_targets(y)
        margins = signs * z
        # −y·z on a mistake (margin ≤ 0, the boundary included), else 0: its gradient is the
        # perceptron update, also from zero weights, where every margin is exactly 0.
        per_unit = ops.where(margins <= 0, -margins, ops.zeros_like(margins))
        per_example = ops.sum(per_unit, axis=-1)
        if sample_weight is not None:
            per_example = per_example * ops.reshape(ops.cast(sample_weight, z.dtype), (-1,))
        loss = ops.mean(per_example)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def signed_targets(self, y):
        """Targets as ±1 per unit, from class indices or from 0/1 (or ±1) label vectors."""
        y = ops.convert_to_tensor(y)
        if len(y.shape) == 2 and y.shape[-1] == self.units and self.units > 1:
            fires = ops.cast(y, "float32") > 0  # multi-label 0/1 targets
        elif self.units == 1:
            fires = ops.reshape(ops.cast(y, "float32"), (-1, 1)) > 0
        else:
            labels = ops.reshape(ops.cast(y, "int32"), (-1,))
            fires = ops.one_hot(labels, self.units) > 0
        return ops.where(fires, 1.0, -1.0)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": self.kernel_initializer,
        }


def heaviside(z):
    """H(z) = 1 where z ≥ 0, else 0 (notes 001 eq. 1). Not differentiable: the perceptron
    criterion, not this output, drives learning."""
    return ops.cast(ops.greater_equal(z, 0), "float32")


@register_model("perceptron")
def perceptron(
    *,
    input_shape: Sequence[int],
    num_classes: int = 2,
    kernel_initializer: str = "zeros",
    name: str = "perceptron",
) -> keras.Model:
    """Rosenblatt perceptron: one threshold unit for two classes, m independent units for m.

    Args:
        input_shape: shape of one input (flattened first).
        num_classes: 2 gives one threshold unit, m > 2 gives m independent units.
        kernel_initializer: initializer of the weights (the notes start from zeros).
        name: the model's name.
    """
    units = 1 if num_classes <= 2 else num_classes
    model = Perceptron(units=units, kernel_initializer=kernel_initializer, name=name)
    model.build((None, *input_shape))
    return model
