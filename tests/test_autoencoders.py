"""Autoencoders and VAEs: the KL term, sampling, noise, sparsity, training through the shared
trainer on real data (scikit-learn digits, a Fashion-MNIST subset), saving and reloading, the
importance-sampled likelihood bound and the reconstruction report."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import CONFIGS, load_yaml_config

from keras_curriculum import datasets, models
from keras_curriculum.models.vae import kl_divergence
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

DIGITS_SHAPE = (8, 8, 1)


def digits_images(count: int = 128) -> np.ndarray:
    data = datasets.load("digits", targets="inputs", batch_size=count, seed=0)
    return np.asarray(next(iter(data.test))[0])


def small_vae(**kwargs) -> keras.Model:
    options = dict(architecture="dense", hidden_units=[32], latent_dim=3, seed=1)
    return models.build("vae", metadata={"input_shape": DIGITS_SHAPE}, **{**options, **kwargs})


def test_kl_term_equals_the_closed_form():
    rng = np.random.default_rng(0)
    z_mean = rng.normal(size=(16, 5)).astype("float32")
    z_log_var = rng.normal(scale=0.7, size=(16, 5)).astype("float32")
    expected = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    np.testing.assert_allclose(np.asarray(kl_divergence(z_mean, z_log_var)), expected, rtol=1e-5)
    assert (expected > 0).all()  # the notes' sign-less formula would make it negative

    # The model's sampling layer adds exactly the batch mean of that KL to the loss.
    sampling = small_vae().sampling
    sampling([keras.ops.convert_to_tensor(z_mean), keras.ops.convert_to_tensor(z_log_var)])
    assert len(sampling.losses) == 1
    np.testing.assert_allclose(float(sampling.losses[0]), expected.mean(), rtol=1e-5)
    # KL(N(0, 1) ‖ N(0, 1)) = 0
    zeros = np.zeros((2, 5), "float32")
    np.testing.assert_allclose(np.asarray(kl_divergence(zeros, zeros)), 0.0, atol=1e-7)


def test_sampling_is_random_and_encode_is_deterministic():
    model = small_vae()
    x = digits_images()
    z_mean, z_log_var = (np.asarray(t) for t in model.encoder(x))
    first = np.asarray(model.sampling([z_mean, z_log_var]))
    second = np.asarray(model.sampling([z_mean, z_log_var]))
    assert not np.allclose(first, second)  # a fresh ε on every call …
    repeated = [np.repeat(z_mean[:1], 8, axis=0), np.repeat(z_log_var[:1], 8, axis=0)]
    draws = np.asarray(model.sampling(repeated))  # … and for each example of a batch
    assert len(np.unique(draws.round(6), axis=0)) == 8
    # z = μ + σ·ε: standardised by the encoder's own μ and σ, the draws are N(0, 1).
    epsilon = (first - z_mean) / np.exp(0.5 * z_log_var)
    assert abs(epsilon.mean()) < 0.2 and 0.8 < epsilon.std() < 1.2

    # Training-mode calls of the whole model differ; encode (μ) and reconstruct do not.
    assert not np.allclose(np.asarray(model(x, training=True)), np.asarray(model(x, training=True)))
    np.testing.assert_array_equal(model.encode(x), model.encode(x))
    np.testing.assert_allclose(model.encode(x), z_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.reconstruct(x), model.reconstruct(x))
    assert model.sample(5, seed=0).shape == (5, *DIGITS_SHAPE)


@pytest.mark.parametrize("noise, level", [("gaussian", 0.3), ("masking", 0.4)])
def test_denoising_noise_only_in_training(noise, level):
    model = models.build(
        "autoencoder",
        metadata={"input_shape": DIGITS_SHAPE},
        architecture="conv",
        filters=[8, 16],
        code_size=8,
        denoising=noise,
        noise_level=level,
        seed=0,
    )
    x = digits_images()
    clean = np.asarray(model.decoder(model.encoder(x)))
    np.testing.assert_allclose(np.asarray(model(x, training=False)), clean, rtol=1e-6)
    np.testing.assert_allclose(model.reconstruct(x), clean, rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(model(x, training=True)), clean)

    noisy = model.corrupt(x)
    if noise == "gaussian":
        assert abs(np.std(noisy - x) - level) < 0.02
    else:  # pixels are zeroed, never rescaled
        changed = noisy != x
        np.testing.assert_array_equal(noisy[changed], 0.0)
        hidden = np.mean(noisy[x > 0] == 0)
        assert abs(hidden - level) < 0.05


def test_sparse_penalty_raises_code_sparsity():
    data = datasets.load("digits", targets="inputs", batch_size=32, seed=0)
    x_test = np.concatenate([np.asarray(x) for x, _ in data.test])

    def near_zero_fraction(sparse: float) -> float:
        keras.utils.set_random_seed(0)
        model = models.build(
            "autoencoder",
            metadata=data.info.metadata(),
            architecture="dense",
            hidden_units=[64],
            code_size=32,
            code_activation="relu",
            sparse=sparse,
        )
        model.compile(keras.optimizers.Adam(3e-3), loss="mse")
        model.fit(data.train, epochs=15, verbose=0, shuffle=False)  # the pipeline shuffles
        return float(np.mean(np.abs(model.encode(x_test)) < 1e-3))

    plain, sparse = near_zero_fraction(0.0), near_zero_fraction(3e-3)
    assert sparse > plain + 0.2, (plain, sparse)


# ---------------------------------------------------------------------------------------------
# Through the shared trainer on real data: falling loss, reports, .keras round trip.

RUNS = {
    "dense_autoencoder": ("autoencoder_digits.yaml", ["training.epochs=8"]),
    "denoising_conv_autoencoder": (
        "denoising_autoencoder_fashion_mnist.yaml",
        ["training.epochs=3", "data.train_size=1500", "data.test_size=300", "model.filters=[8,16]"],
    ),
    "dense_vae": ("vae_digits.yaml", ["training.epochs=8"]),
    "conv_vae": (
        "vae16_fashion_mnist.yaml",
        [
            "training.epochs=3",
            "data.train_size=1500",
            "data.test_size=200",
            "model.filters=[8,16]",
            "model.likelihood_examples=64",
        ],
    ),
}
QUIET = [
    "training.verbose=0",
    "training.callbacks.tensorboard=false",
    "training.callbacks.backup_and_restore=false",
    "training.callbacks.model_checkpoint=false",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    results = {}
    for key, (name, overrides) in RUNS.items():
        config = load_yaml_config(name, *overrides, *QUIET)
        results[key] = train(config, output_dir=tmp_path_factory.mktemp(key))
    return results


@pytest.mark.parametrize("key", list(RUNS))
def test_trains_with_falling_loss_and_reloads(trained, key):
    result = trained[key]
    losses = result.history["loss"]
    assert losses[-1] < losses[0]
    reloaded = keras.saving.load_model(result.run_dir / "model.keras")
    x = np.asarray(next(iter(result.data.test))[0])
    np.testing.assert_allclose(reloaded.encode(x), result.model.encode(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        reloaded.reconstruct(x), result.model.reconstruct(x), rtol=1e-5, atol=1e-6
    )
    assert type(reloaded) is type(result.model)
    assert reloaded.get_config() == result.model.get_config()


def test_reconstruction_report_and_plots(trained):
    for key, result in trained.items():
        metrics = json.loads((result.run_dir / "metrics.json").read_text())
        report = metrics["reconstruction"]
        if "vae" not in key:  # an autoencoder's test loss is that same MSE
            assert report["mse_per_pixel"] == pytest.approx(metrics["test"]["loss"], rel=1e-3)
        assert report["psnr_db"] > 10 * np.log10(1 / 0.25)  # better than a grey image
        plots = {p.name for p in (result.run_dir / "plots").iterdir()}
        assert "reconstructions.png" in plots
        if "vae" in key:
            assert "prior_samples.png" in plots
    denoising = trained["denoising_conv_autoencoder"].metrics["reconstruction"]["denoising"]
    assert denoising["noise_level"] == 0.3
    assert denoising["psnr_gain_db"] == pytest.approx(
        denoising["denoised_psnr_db"] - denoising["noisy_psnr_db"]
    )
    assert abs(denoising["noisy_mse_per_pixel"] - 0.09) < 0.005  # σ² of the Gaussian noise
    # A 2-D latent space gets the class scatter and the decoded grid.
    plots = {p.name for p in (trained["dense_vae"].run_dir / "plots").iterdir()}
    assert {"latent_space.png", "latent_manifold.png"} <= plots


def test_vae_logs_both_terms_and_the_likelihood_bound_holds(trained):
    for key in ("dense_vae", "conv_vae"):
        result = trained[key]
        for term in ("reconstruction", "kl", "negative_elbo", "val_reconstruction", "val_kl"):
            assert len(result.history[term]) == result.metrics["epochs"]
        test = result.metrics["test"]
        assert test["negative_elbo"] == pytest.approx(test["reconstruction"] + test["kl"], rel=1e-4)
        assert test["kl"] > 0
        likelihood = result.metrics["likelihood"]
        assert likelihood["importance_samples"] >= 100
        assert likelihood["negative_log_likelihood"] <= likelihood["negative_elbo"]

    # On a small batch: the importance-sampled −log p(x) (k = 100) lies below the negative
    # ELBO the model itself reports in evaluate().
    model = trained["conv_vae"].model
    x = np.asarray(next(iter(trained["conv_vae"].data.test))[0])[:32]
    estimate = model.negative_log_likelihood(x, 100)
    elbo = model.evaluate(x, x, batch_size=32, return_dict=True, verbose=0)["negative_elbo"]
    assert estimate["negative_log_likelihood"].mean() <= elbo
    assert (estimate["negative_log_likelihood"] <= estimate["negative_elbo"] + 1e-3).all()


@pytest.mark.parametrize(
    "name",
    [
        "autoencoder_fashion_mnist.yaml",
        "denoising_autoencoder_fashion_mnist.yaml",
        "vae2_fashion_mnist.yaml",
        "vae16_fashion_mnist.yaml",
        "beta_vae_fashion_mnist.yaml",
        "sparse_autoencoder_digits.yaml",
    ],
)
def test_configs_build(name):
    config = load_config(CONFIGS / name)
    model = models.build(
        config.model.name, metadata={"input_shape": (28, 28, 1)}, **config.model.arguments
    )
    assert model.encoder.output_shape is not None
    assert model.decoder.output_shape[1:] == (28, 28, 1)
    if config.model.name == "vae":
        assert config.training.loss is None
        assert model.encoder.output_shape[0][-1] == config.model.arguments["latent_dim"]


# model.keras files written by the autoencoder and VAE when they were subclassed models (their
# config said ``data_shape``; their weights sat under ``encoder/``, ``decoder/``), with an input
# batch and the reconstruction that code computed for it.
LEGACY = Path(__file__).parent / "fixtures" / "legacy_models"


@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_a_model_saved_by_the_subclassed_version_still_loads(name):
    model = models.load(LEGACY / f"{name}.keras")
    assert type(model) is type(models.build(name, input_shape=(8, 8, 1), filters=[4]))
    x = np.load(LEGACY / f"{name}_input.npy")
    np.testing.assert_allclose(
        model.reconstruct(x), np.load(LEGACY / f"{name}_reconstruction.npy"), atol=1e-6
    )
    assert "data_shape" not in model.get_config() and model.get_config()["seed"] == 1


def test_hyperparameters_are_the_config_and_the_model_is_built():
    model = small_vae(beta=4.0)
    assert model.built and model.count_params() > 0
    config = model.get_config()
    assert config["beta"] == 4.0 and config["input_shape"] == list(DIGITS_SHAPE)
    rebuilt = type(model).from_config(config)
    assert rebuilt.get_config() == config and rebuilt.count_params() == model.count_params()
