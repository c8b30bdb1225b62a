"""Autoencoders: a learned identity through a bottleneck, and its denoising and sparse variants.

The idea (notes 000 "Autoencoders", 001 §22, 002 §7.1, 004 L8): an *encoder* maps the input to
a short code, h = f(x), and a *decoder* maps the code back, x̂ = g(h). Trained to reproduce
its own input,

    J(θ) = 1/N Σₙ ‖g(f(xₙ)) − xₙ‖²,

the network must keep in the code what matters most about x, because the code is too small to
hold everything (the "diabolo" shape of 001 §22). The encoder is Flatten → Dense layers, or
stride-2 convolutions that halve the image at each block; the convolutional decoder mirrors it
with stride-2 *transposed* convolutions that double it back (004 L8).

Two variants from 004 L8:

* **denoising**: the input is corrupted in training only, by Gaussian noise x + σ·ε or by
  masking (each pixel set to zero with probability p), and the target stays the clean input:
  J = MSE(g(f(n(x))), x). The network cannot copy; it must learn what images look like.
* **sparse**: an L1 penalty λ·Σⱼ|hⱼ| on the code (averaged over the batch) pushes most code
  units to zero for any one input, so each input is described by few active features. With
  a ReLU code the units become exactly zero.

The model's ``encoder`` and ``decoder`` are Keras models of their own (for a lesson on the
latent space, or for reuse); ``encode``, ``decode`` and ``reconstruct`` work on arrays.
The builders here (``encoder_features``, ``build_decoder``) are shared with the VAE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_model

Architecture = Literal["dense", "conv"]


# ---------------------------------------------------------------------------------------------
# Building blocks shared by the autoencoder and the VAE.


def downsampling_block(x, filters: int, *, convs: int, activation: str, name: str):
    """``convs`` 3×3 convolutions, the first with stride 2: the feature map halves."""
    for index in range(1, convs + 1):
        x = keras.layers.Conv2D(
            filters,
            3,
            strides=2 if index == 1 else 1,
            padding="same",
            activation=activation,
            name=f"{name}_conv{index}",
        )(x)
    return x


def upsampling_block(x, filters: int, *, convs: int, activation: str, name: str):
    """A 3×3 transposed convolution with stride 2 (the map doubles), then ``convs − 1`` 3×3
    convolutions."""
    x = keras.layers.Conv2DTranspose(
        filters, 3, strides=2, padding="same", activation=activation, name=f"{name}_deconv"
    )(x)
    for index in range(2, convs + 1):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", activation=activation, name=f"{name}_conv{index}"
        )(x)
    return x


def check_shape(input_shape: Sequence[int], architecture: str, filters: Sequence[int]) -> None:
    if architecture != "conv":
        return
    if len(input_shape) != 3:
        raise ConfigError(
            "model.architecture",
            f"conv needs images of shape (height, width, channels), got {tuple(input_shape)}",
        )
    scale = 2 ** len(filters)
    if not filters or input_shape[0] % scale or input_shape[1] % scale:
        raise ConfigError(
            "model.filters",
            f"{len(filters)} stride-2 blocks need height and width divisible by {scale}, "
            f"got {tuple(input_shape[:2])}",
        )


def encoder_features(
    inputs,
    *,
    architecture: Architecture,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    convs_per_block: int,
    activation: str,
):
    """The encoder's body: stride-2 conv blocks then Flatten, or Flatten then Dense layers."""
    x = inputs
    if architecture == "conv":
        for index, width in enumerate(filters, start=1):
            x = downsampling_block(
                x, width, convs=convs_per_block, activation=activation, name=f"down{index}"
            )
        return keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"dense{index}")(x)
    return x


def build_decoder(
    code_size: int,
    output_shape: Sequence[int],
    *,
    architecture: Architecture,
    filters: Sequence[int],
    hidden_units: Sequence[int],
    convs_per_block: int,
    activation: str,
    output_activation: str | None,
    name: str = "decoder",
) -> keras.Model:
    """code → image of ``output_shape``: the encoder mirrored (Dense layers in reverse order, or
    Dense → Reshape → stride-2 transposed convolutions)."""
    codes = keras.Input(shape=(code_size,), name="code")
    if architecture == "conv":
        scale = 2 ** len(filters)
        start = (output_shape[0] // scale, output_shape[1] // scale, filters[-1])
        x = keras.layers.Dense(math.prod(start), activation=activation, name="project")(codes)
        x = keras.layers.Reshape(start, name="to_feature_map")(x)
        for index, width in enumerate(reversed(filters), start=1):
            x = upsampling_block(
                x, width, convs=convs_per_block, activation=activation, name=f"up{index}"
            )
        # float32 output, so a mixed-precision policy never rounds the reconstruction.
        x = keras.layers.Conv2D(
            output_shape[-1],
            3,
            padding="same",
            activation=output_activation,
            dtype="float32",
            name="reconstruction",
        )(x)
    else:
        x = codes
        for index, units in enumerate(reversed(hidden_units), start=1):
            x = keras.layers.Dense(units, activation=activation, name=f"dense{index}")(x)
        x = keras.layers.Dense(
            math.prod(output_shape), activation=output_activation, dtype="float32", name="pixels"
        )(x)
        x = keras.layers.Reshape(tuple(output_shape), name="reconstruction")(x)
    return keras.Model(codes, x, name=name)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class MaskingNoise(keras.layers.Layer):
    """Masking noise (training only): each input value is set to zero with probability
    ``rate``. Unlike Dropout the kept values are not rescaled by 1/(1 − rate): the corruption
    hides pixels, it does not brighten the others."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def predict_in_batches(model: keras.Model, x, batch_size: int = 256):
    return model.predict(ops.convert_to_numpy(x), batch_size=batch_size, verbose=0)


# ---------------------------------------------------------------------------------------------
# The model.


@keras.saving.register_keras_serializable(package="keras_curriculum")
class Autoencoder(keras.Model):
    """x → [noise, training only] → ``encoder`` → code → ``decoder`` → x̂.

    Built from its hyperparameters (see :func:`autoencoder`), which are also its config, so
    ``model.keras`` reloads."""

    def __init__(
        self,
        *,
        data_shape: Sequence[int],
        code_size: int = 32,
        architecture: Architecture = "conv",
        filters: Sequence[int] = (32, 64),
        hidden_units: Sequence[int] = (256,),
        convs_per_block: int = 1,
        activation: str = "relu",
        code_activation: str | None = None,
        output_activation: str | None = "sigmoid",
        denoising: Literal["gaussian", "masking"] | None = None,
        noise_level: float = 0.3,
        sparse: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.hyperparameters = dict(
            data_shape=[int(d) for d in data_shape],
            code_size=int(code_size),
            architecture=architecture,
            filters=[int(f) for f in filters],
            hidden_units=[int(u) for u in hidden_units],
            convs_per_block=int(convs_per_block),
            activation=activation,
            code_activation=code_activation,
            output_activation=output_activation,
            denoising=denoising,
            noise_level=float(noise_level),
            sparse=float(sparse),
            seed=seed,
        )
        self.denoising = denoising
        self.noise_level = float(noise_level)
        if denoising == "gaussian":
            self.noise = keras.layers.GaussianNoise(noise_level, seed=seed, name="input_noise")
        elif denoising == "masking":
            self.noise = MaskingNoise(noise_level, seed=seed, name="input_noise")
        else:
            self.noise = None
        body = dict(
            architecture=architecture,
            filters=filters,
            hidden_units=hidden_units,
            convs_per_block=convs_per_block,
            activation=activation,
        )
        inputs = keras.Input(shape=tuple(data_shape), name="inputs")
        code = keras.layers.Dense(
            code_size,
            activation=code_activation,
            # The sparse autoencoder's penalty λ·Σ|h| (Keras averages it over the batch).
            activity_regularizer=keras.regularizers.L1(sparse) if sparse else None,
            name="code",
        )(encoder_features(inputs, **body))
        self.encoder = keras.Model(inputs, code, name="encoder")
        self.decoder = build_decoder(
            code_size, data_shape, output_activation=output_activation, **body
        )
        # The encoder and decoder are functional models, built here from the known input shape,
        # so the whole model is built too (callbacks such as BackupAndRestore need that).
        self.built = True

    def call(self, inputs, training=False):
        x = inputs if self.noise is None else self.noise(inputs, training=training)
        return self.decoder(self.encoder(x, training=training), training=training)

    def corrupt(self, x):
        """The training-time corruption n(x) of a batch (x itself for a plain autoencoder)."""
        if self.noise is None:
            return ops.convert_to_numpy(x)
        return ops.convert_to_numpy(self.noise(ops.convert_to_tensor(x), training=True))

    def encode(self, x) -> np.ndarray:
        """The codes f(x) of a batch of inputs (deterministic)."""
        return predict_in_batches(self.encoder, x)

    def decode(self, codes) -> np.ndarray:
        return predict_in_batches(self.decoder, codes)

    def reconstruct(self, x) -> np.ndarray:
        """g(f(x)) without noise: the inference-time output."""
        return self.decode(self.encode(x))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyperparameters}


@register_model("autoencoder")
def autoencoder(
    *,
    input_shape: Sequence[int],
    code_size: int = 32,
    architecture: Architecture = "conv",
    filters: Sequence[int] = (32, 64),
    hidden_units: Sequence[int] = (256,),
    convs_per_block: int = 1,
    activation: str = "relu",
    code_activation: str | None = None,
    output_activation: str | None = "sigmoid",
    denoising: Literal["gaussian", "masking"] | None = None,
    noise_level: float = 0.3,
    sparse: float = 0.0,
    seed: int | None = None,
    name: str = "autoencoder",
) -> keras.Model:
    """Dense or convolutional autoencoder with a ``code_size`` bottleneck.

    ``filters``: channels of the stride-2 conv blocks (conv); ``hidden_units``: the encoder's
    Dense layers (dense), mirrored by the decoder. ``denoising``: 'gaussian' (σ =
    ``noise_level``) or 'masking' (pixels zeroed with probability ``noise_level``), training
    only. ``sparse``: weight λ of the L1 penalty on the code (use ``code_activation: relu``
    for exact zeros). ``output_activation`` sigmoid suits images in [0, 1].
    """
    check_shape(input_shape, architecture, filters)
    if not 0 <= noise_level < (1 if denoising == "masking" else math.inf):
        raise ConfigError("model.noise_level", f"out of range for {denoising} noise: {noise_level}")
    return Autoencoder(
        data_shape=input_shape,
        code_size=code_size,
        architecture=architecture,
        filters=filters,
        hidden_units=hidden_units,
        convs_per_block=convs_per_block,
        activation=activation,
        code_activation=code_activation,
        output_activation=output_activation,
        denoising=denoising,
        noise_level=noise_level,
        sparse=sparse,
        seed=seed,
        name=name,
    )
