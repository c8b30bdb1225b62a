"""Variational autoencoder (VAE) and β-VAE: an autoencoder whose code is a distribution.

The idea (notes 000 "Variational Autoencoders", 004 L8): the encoder outputs the parameters of
a diagonal Gaussian q(z|x) = N(μ(x), diag σ²(x)) — in practice μ and log σ², so the variance
is positive without a constraint — and the decoder turns a *sample* z of it into the
parameters of p(x|z). Sampling is made differentiable by the reparameterisation trick, with a
fresh ε for every example and every step:

    z = μ + exp(½ log σ²) · ε,        ε ~ N(0, I).

Training minimises the negative evidence lower bound (ELBO), in nats per image:

    −ELBO(x) = E_q[−log p(x|z)] + KL(q(z|x) ‖ N(0, I)),
    KL = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²)

(000 prints the KL without its leading minus sign: with it, the KL is ≥ 0, as it must be).
The reconstruction term is summed over pixels and averaged over the batch: the Bernoulli
likelihood (binary cross-entropy) for images in [0, 1], or a Gaussian with a fixed standard
deviation (scaled squared error). A β-VAE weights the KL by β: β > 1 trades reconstruction
for a more regular, disentangled latent space (004 L8, application 3).

The ELBO bounds log p(x) from below. An importance-sampled estimate with k samples from q,

    log p(x) ≈ log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x),       zᵢ ~ q(z|x),

is a tighter bound that approaches log p(x) as k grows; :meth:`negative_log_likelihood`
computes it.

Written the portable Keras 3 way: a ``Sampling`` layer (keras.random with a SeedGenerator)
adds the KL with ``add_loss``; ``compute_loss`` adds the reconstruction term and logs both as
metrics, so the shared trainer trains the VAE with ``training.loss: null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.models.autoencoder import (
    DenseOrConv,
    encoder_and_decoder,
    predict_in_batches,
)
from keras_curriculum.models.base import FunctionalModel, arguments
from keras_curriculum.registry import register_model

Likelihood = Literal["bernoulli", "gaussian"]
LOG_2PI = math.log(2.0 * math.pi)


def kl_divergence(z_mean, z_log_var):
    """KL(N(μ, σ²) ‖ N(0, I)) of each example, summed over the latent dimensions."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def reparameterize(z_mean, z_log_var, seed):
    """z = μ + exp(½ log σ²)·ε with ε ~ N(0, I) drawn afresh for each example."""
    epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=seed)
    return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def reconstruction_nll(x, x_hat, likelihood: Likelihood, gaussian_std: float):
    """−log p(x|z) of each example in nats, summed over its pixels; ``x_hat`` is the decoder's
    mean (a probability per pixel for the Bernoulli likelihood)."""
    axes = tuple(range(1, len(x.shape)))
    x = ops.cast(x, x_hat.dtype)
    if likelihood == "bernoulli":
        return ops.sum(ops.binary_crossentropy(x, x_hat), axis=axes)
    squared = ops.square((x - x_hat) / gaussian_std)
    return ops.sum(0.5 * squared + math.log(gaussian_std) + 0.5 * LOG_2PI, axis=axes)


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag exp(log_var)), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) / ops.exp(log_var), axis=-1)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class Sampling(keras.layers.Layer):
    """(μ, log σ²) → z = μ + exp(½ log σ²)·ε, a fresh ε per example and call; adds the batch's
    mean KL(q(z|x) ‖ N(0, I)) to the model's losses."""

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        self.add_loss(ops.mean(kl_divergence(z_mean, z_log_var)))
        return reparameterize(z_mean, z_log_var, self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


@register_model("vae")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class VariationalAutoencoder(FunctionalModel):
    """Dense or convolutional VAE (β-VAE when ``beta`` ≠ 1) with a ``latent_dim``-D latent space.

    x → ``encoder`` → (μ, log σ²) → ``sampling`` → z → ``decoder`` → x̂ (pixel means). Calling
    the model samples z (it is a stochastic model); :meth:`encode` returns μ and
    :meth:`reconstruct` decodes μ, both deterministic. Train with ``training.loss: null``: the
    model computes its own loss.

    Args:
        input_shape: shape of one input; conv needs (height, width, channels) with height
            and width divisible by 2^len(filters).
        latent_dim: dimension of the latent space z.
        architecture: 'conv' (stride-2 convolutions, mirrored by transposed ones) or 'dense'
            (Flatten then Dense layers, mirrored).
        filters: channels of the stride-2 conv blocks (conv).
        hidden_units: the encoder's Dense layers (dense), mirrored by the decoder.
        convs_per_block: 3×3 convolutions per conv block.
        activation: activation of the hidden layers.
        likelihood: 'bernoulli' (binary cross-entropy, images in [0, 1]) or 'gaussian'
            (squared error scaled by a fixed standard deviation).
        gaussian_std: the Gaussian likelihood's standard deviation.
        beta: weight β of the KL term (1: the plain VAE).
        importance_samples: draws k of the report's importance-sampled −log p(x).
        likelihood_examples: test images the report estimates −log p(x) on.
        seed: seed of the sampling layer.
        name: the model's name.
    """

    LEGACY_LAYOUT = ("encoder", "sampling", "decoder")

    def __init__(
        self,
        *,
        input_shape: Sequence[int],
        latent_dim: int = 2,
        architecture: DenseOrConv = "conv",
        filters: Sequence[int] = (32, 64),
        hidden_units: Sequence[int] = (512,),
        convs_per_block: int = 1,
        activation: str = "relu",
        likelihood: Likelihood = "bernoulli",
        gaussian_std: float = 0.1,
        beta: float = 1.0,
        importance_samples: int = 100,
        likelihood_examples: int = 500,
        seed: int | None = None,
        name: str = "vae",
        **kwargs: Any,
    ):
        hyperparameters = arguments(locals())

        # === Layers ===
        z_mean = keras.layers.Dense(latent_dim, dtype="float32", name="z_mean")
        z_log_var = keras.layers.Dense(latent_dim, dtype="float32", name="z_log_var")
        encoder, decoder = encoder_and_decoder(
            hyperparameters,
            lambda features: [z_mean(features), z_log_var(features)],
            latent_dim,
            "sigmoid",
        )
        sampling = Sampling(seed, name="sampling")

        # === Functional Model ===
        inputs = keras.Input(shape=tuple(input_shape), name="inputs")
        outputs = decoder(sampling(encoder(inputs)))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.sampling, self.decoder = encoder, sampling, decoder
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.negative_elbo_tracker = keras.metrics.Mean(name="negative_elbo")
        self.hyperparameters = hyperparameters

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """β-weighted negative ELBO of the batch: reconstruction + β·KL (sample weights are not
        supported). The KL is the loss the ``sampling`` layer added during the call."""
        target = x if y is None else y
        reconstruction = ops.mean(
            reconstruction_nll(
                target,
                y_pred,
                self.hyperparameters["likelihood"],
                self.hyperparameters["gaussian_std"],
            )
        )
        kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.negative_elbo_tracker.update_state(reconstruction + kl)
        return reconstruction + self.hyperparameters["beta"] * kl

    # -- public helpers on arrays ----------------------------------------------------------

    def encode(self, x) -> np.ndarray:
        """μ(x): the mean code of each input (deterministic)."""
        return predict_in_batches(self.encoder, x)[0]

    def encode_distribution(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z|x) for each input."""
        z_mean, z_log_var = predict_in_batches(self.encoder, x)
        return z_mean, z_log_var

    def decode(self, z) -> np.ndarray:
        """The decoder's pixel means for latent vectors ``z``."""
        return predict_in_batches(self.decoder, z)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` new images: z ~ N(0, I) through the decoder."""
        z = (
            np.random.default_rng(seed)
            .standard_normal((n, self.hyperparameters["latent_dim"]))
            .astype("float32")
        )
        return self.decode(z)

    def reconstruct(self, x) -> np.ndarray:
        """The decoded mean code, decode(encode(x)) (deterministic)."""
        return self.decode(self.encode(x))

    def negative_log_likelihood(
        self, x, samples: int | None = None, *, seed: int = 0, chunk: int = 25
    ) -> dict[str, np.ndarray]:
        """Per-example estimates in nats from the same ``samples`` draws zᵢ ~ q(z|x):

        * ``negative_log_likelihood``: −log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x), importance-sampled;
        * ``negative_elbo``: mean −log p(x|zᵢ) + the closed-form KL;
        * ``kl`` and ``reconstruction``: the two terms of the latter.
        """
        samples = samples or self.hyperparameters["importance_samples"]
        x = ops.convert_to_numpy(x).astype("float32")
        z_mean, z_log_var = self.encode_distribution(x)
        rng = np.random.default_rng(seed)
        log_weights, reconstruction = [], []
        for start in range(0, samples, chunk):
            k = min(chunk, samples - start)
            epsilon = rng.standard_normal((k, *z_mean.shape)).astype("float32")
            z = z_mean + np.exp(0.5 * z_log_var) * epsilon  # (k, batch, latent)
            x_hat = self.decode(z.reshape(-1, self.hyperparameters["latent_dim"]))
            nll = reconstruction_nll(
                np.tile(x, (k,) + (1,) * (x.ndim - 1)),
                x_hat,
                self.hyperparameters["likelihood"],
                self.hyperparameters["gaussian_std"],
            )
            nll = ops.convert_to_numpy(nll).reshape(k, -1)
            log_prior = ops.convert_to_numpy(gaussian_log_density(z, 0.0, np.zeros_like(z)))
            log_posterior = ops.convert_to_numpy(gaussian_log_density(z, z_mean, z_log_var))
            log_weights.append(-nll + log_prior - log_posterior)
            reconstruction.append(nll)
        log_weights = np.concatenate(log_weights).astype("float64")
        peak = log_weights.max(axis=0)
        log_mean_weight = peak + np.log(np.mean(np.exp(log_weights - peak), axis=0))
        kl = ops.convert_to_numpy(kl_divergence(z_mean, z_log_var))
        reconstruction = np.concatenate(reconstruction).mean(axis=0)
        return {
            "negative_log_likelihood": -log_mean_weight,
            "negative_elbo": reconstruction + kl,
            "kl": kl,
            "reconstruction": reconstruction,
        }

    def curriculum_report(self, data, run_dir) -> dict[str, Any]:
        """Likelihood figures on the first ``likelihood_examples`` test images (the trainer
        merges them into metrics.json; the test KL and negative ELBO of the whole test set are
        already in its ``test`` section)."""
        images, count = [], 0
        for x, _ in data.test:
            images.append(ops.convert_to_numpy(x))
            count += len(images[-1])
            if count >= self.hyperparameters["likelihood_examples"]:
                break
        x = np.concatenate(images)[: self.hyperparameters["likelihood_examples"]]
        estimates = self.negative_log_likelihood(x)
        return {
            "likelihood": {
                "units": "nats per image",
                "likelihood": self.hyperparameters["likelihood"],
                "examples": len(x),
                "importance_samples": self.hyperparameters["importance_samples"],
                **{key: float(np.mean(value)) for key, value in estimates.items()},
            }
        }
