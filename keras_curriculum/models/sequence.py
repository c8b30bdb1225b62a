"""Numeric sequences: a recurrent (or convolutional) classifier and a forecaster over (T, d) inputs.

The idea (notes 001 §24 and B.9, 002 §8, 003 §4, 004 L7): a series is a (batch, time, features)
tensor; a recurrent layer reads it one step at a time and carries a state,

    h_t = tanh(W_x x_t + W_h h_{t−1} + b)                               (SimpleRNN, 001 §24.3.1)

so a SimpleRNN with u units on d features has u·d + u·u + u parameters (001 §24.3.2: 64 units
on 56 features, 3,584 + 4,096 + 64 = 7,744). Backpropagation through time multiplies the
gradient by ∂h_t/∂h_{t−1} = W_hᵀ·diag(tanh′) once per step, so over long spans it vanishes;
the LSTM's additive cell c_t = f ⊙ c_{t−1} + i ⊙ c̃ and the GRU's interpolation
h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃ give it a path that does not shrink (the gates and their
parameter counts, 4·u·(d + u + 1) and 3·u·(d + u + 2), are in ``models/rnn.py``).

:func:`sequence_classifier` is many-to-one: optional 1-D convolution blocks (Conv1D → batch
norm → ReLU, the fully convolutional baseline of Wang et al. 2017), then stacked recurrent
layers (``simple``/``lstm``/``gru``, optionally bidirectional), then Dense(k, softmax) for any
k, two classes included, as in the notes. With no recurrent layer the convolution blocks end in
global average pooling over time (the FCN itself). Series of unequal length are padded with a
``mask_value`` that a Masking layer turns into a mask: the recurrent layers skip those steps, so
a padded series gets the prediction of the unpadded one.

:func:`sequence_forecaster` maps a window of past values to the next ``horizon`` values with the
same recurrent stack and a linear Dense(horizon) output. With ``relative_to_lag`` ℓ the network
predicts the change from a naive forecast, ŷ_{T+j} = x_{T+j−ℓ} + f(x): from the last value it
saw (ℓ = 1), which lets it follow a trend beyond the training range, or from the same point
one season back (ℓ = m, the seasonal naive forecast, as a seasonal difference does for SARIMA),
so that a short series need not learn its season from a few dozen windows.

The notes' models (``configs/notes/``): 001 §24.3.2 SimpleRNN(64) on 56 features → Dense(2),
7,744 + 130 = 7,874; 001 §24.4 SimpleRNN(64, seq) → Dropout → SimpleRNN(64) → Dropout → Dense(2)
on (15, 56), 7,744 + 8,256 + 130 = 16,130; 001 B.9 SimpleRNN(64) on 75 features → Dense(5),
8,960 + 325 = 9,285; 001 B.9 HAR: (128, 9) → LSTM(32) ×3 → Dense(6), 5,376 + 8,320 + 8,320 +
198 = 22,214; 000 SimpleRNN(64) on 10 inputs, the layer alone, 640 + 4,096 + 64 = 4,800.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import keras

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import arguments, arguments_for
from keras_curriculum.models.layers import output_layer
from keras_curriculum.models.rnn import recurrent_stack
from keras_curriculum.registry import register_model

Cell = Literal["simple", "lstm", "gru"]


def conv_block(x, filters: int, kernel_size: int, *, momentum: float, name: str):
    """Conv1D over time ('same' padding keeps the length) → batch norm → ReLU (Wang et al. 2017)."""
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def sequence_encoder(
    inputs,
    *,
    cell: str,
    units: Sequence[int],
    bidirectional: bool,
    dropout: float,
    recurrent_dropout: float,
    layer_dropout: float,
    conv_filters: Sequence[int],
    conv_kernel_sizes: Sequence[int],
    batch_norm_momentum: float,
    mask_value: float | None = None,
):
    """Masking → convolution blocks → stacked recurrent layers: the (batch, features) summary of
    each series (the last recurrent state, or the time average of the last feature maps)."""
    if len(conv_filters) != len(conv_kernel_sizes):
        raise ConfigError(
            "model.conv_kernel_sizes",
            f"expected one kernel size per conv filter count ({len(conv_filters)}),"
            f" got {len(conv_kernel_sizes)}",
        )
    if not units and not conv_filters:
        raise ConfigError("model.units", "expected at least one recurrent layer or conv block")
    x = inputs
    # Convolutions ignore masks: a conv front-end sees the padding (it is the training mean).
    if mask_value is not None and not conv_filters:
        x = keras.layers.Masking(mask_value, name="masking")(x)
    for index, (filters, kernel_size) in enumerate(
        zip(conv_filters, conv_kernel_sizes, strict=True), start=1
    ):
        x = conv_block(x, filters, kernel_size, momentum=batch_norm_momentum, name=f"conv{index}")
    if not units:
        return keras.layers.GlobalAveragePooling1D(name="time_average")(x)
    return recurrent_stack(
        x,
        units,
        cell=cell,
        bidirectional=bidirectional,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        layer_dropout=layer_dropout,
    )


@register_model("sequence_classifier")
def sequence_classifier(
    *,
    input_shape: Sequence[int | None],
    num_classes: int,
    cell: Cell = "lstm",
    units: Sequence[int] = (64,),
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    layer_dropout: float = 0.0,
    conv_filters: Sequence[int] = (),
    conv_kernel_sizes: Sequence[int] = (),
    batch_norm_momentum: float = 0.9,
    mask_value: float | None = None,
    head: Literal["softmax", "none"] = "softmax",
    name: str = "sequence_classifier",
) -> keras.Model:
    """Numeric series (T, d) → [conv blocks] → recurrent layer(s) → Dense(k, softmax).

    Args:
        input_shape: (T, d): steps (None for any length) and features per step.
        num_classes: k, the width of the softmax head (2 included).
        cell: ``simple`` (tanh SimpleRNN), ``lstm`` or ``gru``.
        units: one recurrent layer per entry, stacked; empty for a purely convolutional model.
        bidirectional: also read each series backwards and concatenate (doubles parameters).
        dropout: dropout on each recurrent layer's inputs x_t.
        recurrent_dropout: dropout on the carried state h_{t−1}.
        layer_dropout: a Dropout layer after each recurrent layer (notes 001 §24.4).
        conv_filters: filters of the Conv1D → BN → ReLU blocks in front (Wang et al.: 128, 256, 128).
        conv_kernel_sizes: their kernel sizes (Wang et al.: 8, 5, 3).
        batch_norm_momentum: momentum of the blocks' moving statistics. Keras' 0.99 averages
            over the last ~100 steps, more than a small UCR set's whole run at 4 steps an
            epoch, so inference would use statistics of the untrained first epochs
            (ItalyPowerDemand, 60 epochs: 50 % test with 0.99, 95.5 % with 0.9).
        mask_value: the padding value of unequal-length series, masked out (from the data).
        head: ``softmax``, or ``none`` for the encoder alone (the notes' bare-layer count).
        name: the model's name.
    """
    hyperparameters = arguments(locals())
    inputs = keras.Input(shape=tuple(input_shape), name="series")
    x = sequence_encoder(inputs, **arguments_for(sequence_encoder, hyperparameters))
    if head == "softmax":
        x = output_layer(num_classes, "softmax")(x)
    return keras.Model(inputs, x, name=name)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class LaggedValues(keras.layers.Layer):
    """The naive forecast the network corrects, as (batch, horizon): for forecast step j
    (1 … h) the window's value ``lag`` steps before it, x_{T+j−lag}, the last season repeated
    when h > lag. Lag 1 gives the last value x_T for every step; lag m the seasonal naive
    forecast."""

    def __init__(self, lag: int, horizon: int, **kwargs):
        super().__init__(**kwargs)
        self.lag, self.horizon = lag, horizon

    def call(self, inputs):
        steps = inputs.shape[1]
        indices = [steps - self.lag + j % self.lag for j in range(self.horizon)]
        return keras.ops.take(inputs[:, :, 0], indices, axis=1)

    def get_config(self):
        return {**super().get_config(), "lag": self.lag, "horizon": self.horizon}


@register_model("sequence_forecaster")
def sequence_forecaster(
    *,
    input_shape: Sequence[int],
    horizon: int = 1,
    cell: Cell = "lstm",
    units: Sequence[int] = (32,),
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    layer_dropout: float = 0.0,
    conv_filters: Sequence[int] = (),
    conv_kernel_sizes: Sequence[int] = (),
    batch_norm_momentum: float = 0.9,
    relative_to_lag: int = 1,
    name: str = "sequence_forecaster",
) -> keras.Model:
    """A window of past values (T, d) → recurrent layer(s) → the next ``horizon`` values.

    Args:
        input_shape: (T, d): the window length and the values per step (the series is column 0).
        horizon: h, how many future values one forward pass forecasts.
        cell: ``simple``, ``lstm`` or ``gru``.
        units: one recurrent layer per entry, stacked.
        bidirectional: also read the window backwards.
        dropout: dropout on each recurrent layer's inputs.
        recurrent_dropout: dropout on the carried state.
        layer_dropout: a Dropout layer after each recurrent layer.
        conv_filters: Conv1D → BN → ReLU blocks in front of the recurrent layers.
        conv_kernel_sizes: their kernel sizes.
        batch_norm_momentum: momentum of the blocks' moving statistics (see
            :func:`sequence_classifier`).
        relative_to_lag: 0 forecasts the values themselves; lag ℓ ≥ 1 forecasts the change from
            the value ℓ steps before each target (ŷ_{T+j} = x_{T+j−ℓ} + f(x)): 1 from the last
            value, the seasonal period m from the same point a season ago.
        name: the model's name.
    """
    hyperparameters = arguments(locals())
    if horizon < 1:
        raise ConfigError("model.horizon", f"expected a positive integer, got {horizon}")
    inputs = keras.Input(shape=tuple(input_shape), name="window")
    x = sequence_encoder(inputs, **arguments_for(sequence_encoder, hyperparameters))
    outputs = output_layer(horizon, None, name="forecast")(x)
    if not 0 <= relative_to_lag <= input_shape[0]:
        raise ConfigError(
            "model.relative_to_lag",
            f"expected a lag from 0 to the window length {input_shape[0]}, got {relative_to_lag}",
        )
    if relative_to_lag:
        naive = LaggedValues(relative_to_lag, horizon, name=f"lag{relative_to_lag}_values")(inputs)
        outputs = keras.layers.Add(name="from_lagged_values")([outputs, naive])
    return keras.Model(inputs, outputs, name=name)
