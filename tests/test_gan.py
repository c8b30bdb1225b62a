"""GANs: the alternating train_step, both optimizers' state in the weights file, the generative
measures, the per-epoch sample grids and the ``sample`` command."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import load_yaml_config, run_cli

from keras_curriculum import models
from keras_curriculum.evaluation import generative
from keras_curriculum.models.gan import discriminator_loss, generator_loss
from keras_curriculum.training.trainer import train

TINY = dict(latent_dim=8, generator_filters=(16, 8), discriminator_filters=(8, 16), seed=0)
TINY_RUN = [
    "data.source_options.train_size=256",
    "data.source_options.test_size=128",
    "data.batch_size=64",
    "training.epochs=2",
    "model.latent_dim=8",
    "model.generator_filters=[16,8]",
    "model.discriminator_filters=[8,16]",
    "training.verbose=0",
]


def tiny_gan(conditional: bool, **options):
    kwargs = {**TINY, **options}
    if conditional:
        return models.build("conditional_gan", input_shape=(28, 28, 1), num_classes=10, **kwargs)
    return models.build("dcgan", input_shape=(28, 28, 1), **kwargs)


def batch(size: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.random((size, 28, 28, 1)).astype("float32"), rng.integers(0, 10, size)


def values(variables):
    return [np.array(v) for v in variables]


@pytest.mark.parametrize("conditional", [False, True])
def test_k_discriminator_updates_per_generator_update(conditional):
    model = tiny_gan(conditional, discriminator_steps=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x, y = batch()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # two train steps
    assert int(model.optimizer.iterations) == 2  # the generator's
    assert int(model.discriminator_optimizer.iterations) == 4


def test_each_step_updates_only_its_player():
    model = tiny_gan(True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x, y = batch(8)
    labels = keras.ops.reshape(keras.ops.convert_to_tensor(y, "int32"), (8, 1))
    generator, discriminator = (
        values(model.generator.trainable_variables),
        values(model.discriminator.trainable_variables),
    )
    model.discriminator_step(keras.ops.convert_to_tensor(x), labels, 8)
    after_d = values(model.discriminator.trainable_variables)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(generator, values(model.generator.trainable_variables), strict=True)
    )
    assert any(not np.array_equal(a, b) for a, b in zip(discriminator, after_d, strict=True))
    model.generator_step(labels, 8)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(after_d, values(model.discriminator.trainable_variables), strict=True)
    )
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(generator, values(model.generator.trainable_variables), strict=True)
    )


def test_both_optimizers_state_round_trips_through_the_weights_file(tmp_path):
    model = tiny_gan(False, discriminator_steps=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    x, y = batch()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "gan.weights.h5"
    model.save_weights(path)

    restored = tiny_gan(False, discriminator_steps=2)
    restored.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    restored.load_weights(path)
    for name in ("optimizer", "discriminator_optimizer"):
        saved, loaded = getattr(model, name), getattr(restored, name)
        assert int(loaded.iterations) == int(saved.iterations) > 0
        assert len(loaded.variables) == len(saved.variables) > 2
        for a, b in zip(saved.variables, loaded.variables, strict=True):  # Adam's moments
            np.testing.assert_array_equal(np.array(a), np.array(b))
    # Training continues from the restored state, not from zero.
    restored.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert int(restored.discriminator_optimizer.iterations) == 8
    assert int(restored.optimizer.iterations) == 4


def test_losses_equal_their_formulas():
    real, fake = np.array([[2.0], [-1.0]]), np.array([[0.5], [-3.0]])
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    smoothing = 0.1
    expected = np.mean(
        -(1 - smoothing) * np.log(sigmoid(real)) - smoothing * np.log(1 - sigmoid(real))
    ) + np.mean(-np.log(1 - sigmoid(fake)))
    np.testing.assert_allclose(
        float(discriminator_loss(real, fake, smoothing)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        float(generator_loss(fake)), np.mean(-np.log(sigmoid(fake))), rtol=1e-5
    )


def test_frechet_distance_precision_and_recall():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 6))
    b = rng.normal(loc=0.5, size=(300, 6))
    assert generative.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert generative.frechet_distance(a, b) == pytest.approx(generative.frechet_distance(b, a))
    assert generative.frechet_distance(a, b) > 1.0  # the mean shift alone is 6 · 0.25
    scores = generative.precision_recall(a, a, k=3)
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    collapsed = np.repeat(a[:1], 300, axis=0) + 1e-3 * rng.normal(size=(300, 6))
    assert generative.precision_recall(a, collapsed, k=3)["recall"] < 0.1  # mode collapse


def test_class_consistency_of_a_perfect_and_a_wrong_generator():
    inputs = keras.Input((3,))
    classifier = keras.Model(inputs, keras.layers.Activation("softmax")(inputs))
    images = np.eye(3, dtype="float32")[[0, 1, 2, 2]]
    assert generative.class_consistency(classifier, images, [0, 1, 2, 2]) == 1.0
    assert generative.class_consistency(classifier, images, [1, 1, 2, 0]) == 0.5


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    runs = {}
    for name in ("dcgan_fashion_mnist.yaml", "cgan_fashion_mnist.yaml"):
        config = load_yaml_config(name, *TINY_RUN)
        runs[name] = train(config, output_dir=tmp_path_factory.mktemp("gan"))
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dcgan_fashion_mnist.yaml", "cgan_fashion_mnist.yaml"])
def test_config_trains_writes_grids_and_reloads(trained, name):
    result = trained[name]
    history = result.history
    for key in ("discriminator_loss", "generator_loss"):
        assert np.all(np.isfinite(history[key])) and history[key][0] != history[key][1]
    run_dir = result.run_dir
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "epoch_001.png",
        "epoch_002.png",
    ]
    assert (run_dir / "plots" / "samples.png").exists()
    assert list((run_dir / "tensorboard" / "samples").iterdir())
    assert set(result.metrics["test"]) >= {"discriminator_loss", "generator_loss"}
    loaded = models.load(run_dir / "model.keras")
    assert int(loaded.discriminator_optimizer.iterations) == int(
        result.model.discriminator_optimizer.iterations
    )
    noise = result.model.noise(4, seed=3)
    labels = [1, 2, 3, 4] if result.model.conditional else None
    np.testing.assert_allclose(
        loaded.generate(noise, labels), result.model.generate(noise, labels), atol=1e-5
    )


@pytest.mark.slow
def test_inference_samples_are_not_flat_after_a_short_run(trained):
    """The generator's batch-norm moving statistics keep up with it: after 8 steps, images drawn
    in inference mode vary as much as the batch-statistics ones (with Keras' momentum 0.99 they
    came out a flat grey, pixel std 0.005 against 0.15)."""
    model = trained["dcgan_fashion_mnist.yaml"].model
    noise = model.noise(256, seed=0)
    inference = model.generate(noise)
    batch_statistics = np.asarray(model.generator(noise, training=True))
    assert inference.std() > 0.5 * batch_statistics.std()


@pytest.mark.slow
def test_sample_command(trained, tmp_path, capsys):
    from keras_curriculum import cli

    run_dir = trained["cgan_fashion_mnist.yaml"].run_dir
    out = tmp_path / "grid.png"
    done = run_cli(
        "keras-curriculum", "sample", str(run_dir), "--n", "16", "--label", "3", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.exists()
    # The refusals in this process (the console script's start-up is paid once, above).
    unconditional = trained["dcgan_fashion_mnist.yaml"].run_dir
    for arguments, expected in [
        ([str(run_dir), "--label", "12"], "--label"),
        ([str(unconditional), "--label", "1"], "conditional"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["sample", *arguments])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and expected in err, err
