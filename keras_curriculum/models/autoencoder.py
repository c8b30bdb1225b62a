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

import json
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import FunctionalModel, arguments
from keras_curriculum.registry import register_model

DenseOrConv = Literal["dense", "conv"]
# The hyperparameters of the encoder's body and the decoder, shared by the autoencoder and the VAE.
BODY = ("architecture", "filters", "hidden_units", "convs_per_block", "activation")


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
    architecture: DenseOrConv,
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
    architecture: DenseOrConv,
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


def encoder_and_decoder(
    hyperparameters: dict[str, Any], head, code_size: int, output_activation: str | None
) -> tuple[keras.Model, keras.Model]:
    """The ``encoder`` (the body, then ``head`` on its features) and the mirrored ``decoder``
    from codes of ``code_size``, for the :data:`BODY` and ``input_shape`` hyperparameters of
    an autoencoder or a VAE (checked against each other first)."""
    input_shape = hyperparameters["input_shape"]
    body = {key: hyperparameters[key] for key in BODY}
    check_shape(input_shape, body["architecture"], body["filters"])
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    encoder = keras.Model(inputs, head(encoder_features(inputs, **body)), name="encoder")
    decoder = build_decoder(code_size, input_shape, output_activation=output_activation, **body)
    return encoder, decoder


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


def load_legacy(path: str | Path) -> keras.Model | None:
    """The model of a ``model.keras`` written when the autoencoder and the VAE were subclassed
    models (their config says ``data_shape``), or None for any other file.

    Those files keep each part's weights under the attribute that held it (``encoder/…``),
    where a functional model keeps them under ``layers/…``: a container with the old
    attributes, holding the new model's parts, reads them."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))
    if "data_shape" not in saved.get("config", {}):
        return None
    # Other classes renamed ``data_shape`` too (detector, siamese) but kept their weights' layout.
    saved_class = keras.saving.get_registered_object(saved.get("registered_name"))
    if not hasattr(saved_class, "LEGACY_LAYOUT"):
        return None
    model = keras.saving.deserialize_keras_object(saved)
    container = keras.Model()
    for attribute in model.LEGACY_LAYOUT:  # in the order the old classes set them
        if getattr(model, attribute) is not None:
            setattr(container, attribute, getattr(model, attribute))
    container.build(None)  # its parts are built: nothing to create
    container.load_weights(path)
    return model


# ---------------------------------------------------------------------------------------------
# The model.


@register_model("autoencoder")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class Autoencoder(FunctionalModel):
    """Dense or convolutional autoencoder with a ``code_size`` bottleneck.

    x → [noise, training only] → ``encoder`` → code → ``decoder`` → x̂; ``encode``,
    ``decode`` and ``reconstruct`` work on arrays.

    Args:
        input_shape: shape of one input; conv needs (height, width, channels) with height
            and width divisible by 2^len(filters).
        code_size: width of the code (the bottleneck).
        architecture: 'conv' (stride-2 convolutions, mirrored by transposed ones) or 'dense'
            (Flatten then Dense layers, mirrored).
        filters: channels of the stride-2 conv blocks (conv).
        hidden_units: the encoder's Dense layers (dense), mirrored by the decoder.
        convs_per_block: 3×3 convolutions per conv block.
        activation: activation of the hidden layers.
        code_activation: activation of the code (relu gives exact zeros with ``sparse``).
        output_activation: activation of the reconstruction (sigmoid suits images in [0, 1]).
        denoising: 'gaussian' (σ = ``noise_level``) or 'masking' (pixels zeroed with
            probability ``noise_level``), training only; null: none.
        noise_level: σ of the Gaussian noise, or the masking probability.
        sparse: weight λ of the L1 penalty on the code.
        seed: seed of the noise.
        name: the model's name.
    """

    LEGACY_LAYOUT = ("noise", "encoder", "decoder")

    def __init__(
        self,
        *,
        input_shape: Sequence[int],
        code_size: int = 32,
        architecture: DenseOrConv = "conv",
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
        **kwargs: Any,
    ):
        hyperparameters = arguments(locals())
        if not 0 <= noise_level < (1 if denoising == "masking" else math.inf):
            raise ConfigError(
                "model.noise_level", f"out of range for {denoising} noise: {noise_level}"
            )
        # === Layers ===
        if denoising == "gaussian":
            noise = keras.layers.GaussianNoise(noise_level, seed=seed, name="input_noise")
        elif denoising == "masking":
            noise = MaskingNoise(noise_level, seed=seed, name="input_noise")
        else:
            noise = None
        code = keras.layers.Dense(
            code_size,
            activation=code_activation,
            # The sparse autoencoder's penalty λ·Σ|h| (Keras averages it over the batch).
            activity_regularizer=keras.regularizers.L1(sparse) if sparse else None,
            name="code",
        )
        encoder, decoder = encoder_and_decoder(hyperparameters, code, code_size, output_activation)

        # === Functional Model ===
        inputs = keras.Input(shape=tuple(input_shape), name="inputs")
        x = inputs if noise is None else noise(inputs)
        super().__init__(inputs=inputs, outputs=decoder(encoder(x)), name=name, **kwargs)

        # === Config ===
        self.noise, self.encoder, self.decoder = noise, encoder, decoder
        self.hyperparameters = hyperparameters

    # What the reconstruction report asks a denoising model (see keras_curriculum.reports).
    @property
    def denoising(self) -> str | None:
        return self.hyperparameters["denoising"]

    @property
    def noise_level(self) -> float:
        return self.hyperparameters["noise_level"]

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
