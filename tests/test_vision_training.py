"""Vision classics train on real data: the perceptron equals scikit-learn's, each model's loss
falls in a few steps, augmentation is off at inference, and the classification report holds
the notes' worked metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CONFIGS

from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

QUIET = [
    "training.verbose=0",
    "training.callbacks.tensorboard=false",
    "training.callbacks.backup_and_restore=false",
]


def train_arrays(data):
    """The training split exactly as the trainer fed it (order included)."""
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in data.train], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------------------------------------
# The perceptron is the perceptron learning rule, exactly.


@pytest.mark.parametrize("epochs", [1, 10])
def test_perceptron_equals_scikit_learn(output_dir, epochs):
    """Zero initial weights, batch size 1, no shuffling, learning rate 1: after the same epochs
    the Keras perceptron's weights and bias are scikit-learn's Perceptron's."""
    import keras
    from sklearn.linear_model import Perceptron as SklearnPerceptron

    from keras_curriculum import models

    config = load_config(CONFIGS / "perceptron_iris.yaml", [*QUIET, f"training.epochs={epochs}"])
    result = train(config, output_dir=output_dir)
    x, y = train_arrays(result.data)
    assert len(x) == 80 and set(np.unique(y)) == {0, 1}  # setosa vs versicolor, 20 % held out

    reference = SklearnPerceptron(shuffle=False, eta0=1.0, tol=None, penalty=None, max_iter=epochs)
    reference.fit(x, y)
    kernel, bias = result.model.net_input.get_weights()
    np.testing.assert_allclose(kernel.ravel(), reference.coef_.ravel(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bias, reference.intercept_, rtol=1e-5, atol=1e-5)
    assert np.abs(kernel).sum() > 0  # it did learn from the all-zero start

    if epochs == 10:  # the config's run: converged, with Heaviside outputs, and reloadable
        assert (
            result.model.evaluate(result.data.train, return_dict=True, verbose=0)["accuracy"] == 1.0
        )
        outputs = result.model.predict(x, verbose=0)
        assert set(np.unique(outputs)) == {0.0, 1.0}
        models.available()
        reloaded = keras.saving.load_model(result.run_dir / "model.keras")
        np.testing.assert_array_equal(reloaded.predict(x, verbose=0), outputs)


def test_perceptron_update_rule_on_one_example():
    """One SGD step from zero weights on a positive example at margin 0 is w ← w + α·y·x."""
    import keras

    from keras_curriculum import models

    model = models.build("perceptron", input_shape=(3,), num_classes=2)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=None)
    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    model.train_on_batch(x, np.array([1]))
    kernel, bias = model.net_input.get_weights()
    np.testing.assert_allclose(kernel.ravel(), 0.5 * x.ravel())
    np.testing.assert_allclose(bias, [0.5])
    model.train_on_batch(x, np.array([1]))  # now on the right side: no change
    np.testing.assert_allclose(model.net_input.get_weights()[0].ravel(), 0.5 * x.ravel())
    model.train_on_batch(x, np.array([0]))  # a mistake on a negative example: w ← w − α·x
    np.testing.assert_allclose(model.net_input.get_weights()[0].ravel(), 0.0)


def test_multiclass_perceptron_is_independent_units(output_dir):
    """Three classes are three one-vs-rest perceptrons: each unit's weights equal scikit-learn's
    (which trains the same one-vs-rest units)."""
    from sklearn.linear_model import Perceptron as SklearnPerceptron

    config = load_config(
        CONFIGS / "perceptron_iris.yaml", [*QUIET, "data.classes=null", "training.epochs=3"]
    )
    result = train(config, output_dir=output_dir)
    x, y = train_arrays(result.data)
    reference = SklearnPerceptron(shuffle=False, eta0=1.0, tol=None, penalty=None, max_iter=3).fit(
        x, y
    )
    kernel, bias = result.model.net_input.get_weights()
    np.testing.assert_allclose(kernel.T, reference.coef_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bias, reference.intercept_, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Every model family learns on real data.

SMALL_FASHION = ["data.train_size=600", "data.test_size=200"]
FEW_STEPS = {
    "softmax_regression_fashion_mnist.yaml": [*SMALL_FASHION, "training.epochs=3"],
    "mlp_fashion_mnist.yaml": [*SMALL_FASHION, "training.epochs=3"],
    "cnn_fashion_mnist.yaml": [*SMALL_FASHION, "training.epochs=3", "data.batch_size=32"],
    "lenet5_mnist_5k.yaml": ["data.train_size=800", "training.epochs=3"],
    "resnet20_fashion_mnist.yaml": [
        "data.train_size=320",
        "data.test_size=64",
        "training.epochs=3",
        "model.depth=8",
        "data.batch_size=32",
        "training.optimizer.schedule.name=constant",
        "training.optimizer.learning_rate=0.02",
    ],
}


@pytest.mark.parametrize("filename", sorted(FEW_STEPS))
def test_model_trains_and_its_loss_falls(output_dir, filename):
    config = load_config(CONFIGS / filename, [*QUIET, *FEW_STEPS[filename]])
    result = train(config, output_dir=output_dir)
    losses = result.history["loss"]
    assert losses[-1] < losses[0]
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert result.history["accuracy"][-1] > 0.3  # well above chance (0.1) after a few epochs
    assert "classification" in metrics
    assert (result.run_dir / "plots" / "confusion_matrix.png").exists()


def test_the_cpu_recipe_of_resnet20_changes_only_the_schedule():
    """``resnet20_fashion_mnist_short`` (the recipe measured on a 2-core CPU) trains the same
    network on the same data as the paper's 60-epoch recipe; only its length and schedule differ."""
    paper = load_config(CONFIGS / "resnet20_fashion_mnist.yaml")
    short = load_config(CONFIGS / "resnet20_fashion_mnist_short.yaml")
    assert short.model == paper.model and short.data == paper.data and short.seed == paper.seed
    assert short.training.loss == paper.training.loss
    assert short.training.epochs < paper.training.epochs
    assert short.training.optimizer.schedule.name == "cosine"


def test_image_to_image_resnet_learns_to_reconstruct(output_dir):
    config = load_config(
        data={
            "name": "resnet_digits_reconstruction",
            "model": {"name": "resnet_image_to_image", "filters": 8},
            "data": {"name": "digits", "targets": "inputs", "batch_size": 64},
            "training": {
                "epochs": 2,
                "loss": "mean_squared_error",
                "metrics": [],
                "verbose": 0,
                "callbacks": {"tensorboard": False, "backup_and_restore": False},
            },
        }
    )
    result = train(config, output_dir=output_dir)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.model.output.shape == (None, 8, 8, 1)


@pytest.mark.parametrize("block, depth", [("basic", 20), ("bottleneck", 29)])
def test_plain_network_is_the_resnet_without_its_shortcuts(block, depth):
    """``shortcuts=False`` keeps every layer of F(x) and drops the additions and projections:
    the plain net has the residual net's parameters less those of the projection shortcuts."""
    import keras

    from keras_curriculum import models

    options = dict(input_shape=(28, 28, 1), num_classes=10, depth=depth, block=block)
    residual = models.build("resnet", **options)
    plain = models.build("resnet", shortcuts=False, **options)
    projections = [layer for layer in residual.layers if "_projection_" in layer.name]
    assert projections  # the later stages change the shape, so the residual net projects
    projection_params = sum(layer.count_params() for layer in projections)
    assert plain.count_params() == residual.count_params() - projection_params
    additions = [
        sum(isinstance(layer, keras.layers.Add) for layer in m.layers) for m in (plain, residual)
    ]
    assert additions == [0, (depth - 2) // (2 if block == "basic" else 3)]  # one per block
    assert plain.name == f"plain{depth}" and residual.name == f"resnet{depth}"


def test_plain_network_trains(output_dir):
    config = load_config(
        CONFIGS / "resnet20_fashion_mnist.yaml",
        [*QUIET, *FEW_STEPS["resnet20_fashion_mnist.yaml"], "model.shortcuts=false"],
    )
    result = train(config, output_dir=output_dir)
    assert result.model.name == "plain8"
    assert result.history["loss"][-1] < result.history["loss"][0]


# ---------------------------------------------------------------------------------------------
# Augmentation acts while training only.


def test_augmentation_is_inactive_at_inference():
    from keras_curriculum import models

    augmentation = {
        "flip": "horizontal",
        "translation": 0.2,
        "rotation": 0.1,
        "zoom": 0.2,
        "contrast": 0.3,
    }
    model = models.build("cnn", input_shape=(28, 28, 1), num_classes=10, augmentation=augmentation)
    block = model.get_layer("augmentation")
    assert [layer.name for layer in block.layers] == [
        "random_flip", "random_translation", "random_rotation", "random_zoom", "random_contrast"
    ]  # fmt: skip
    images = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(block(images, training=False)), images)
    assert not np.allclose(np.asarray(block(images, training=True)), images)
    # so predictions are deterministic, and equal to the same network without augmentation
    plain = models.build("cnn", input_shape=(28, 28, 1), num_classes=10)
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(
        model.predict(images, verbose=0), plain.predict(images, verbose=0), rtol=1e-5
    )


@pytest.mark.parametrize("name", ["mlp", "resnet"])
def test_every_image_family_takes_augmentation(name):
    from keras_curriculum import models

    extra = {"depth": 8} if name == "resnet" else {}
    model = models.build(
        name, input_shape=(28, 28, 1), num_classes=10, augmentation={"zoom": 0.1}, **extra
    )
    assert model.get_layer("augmentation").layers[0].name == "random_zoom"


def test_leaky_relu_uses_the_notes_slope():
    from keras_curriculum import models

    model = models.build(
        "mlp", input_shape=(4,), num_classes=3, hidden_units=[2], activation="leaky_relu"
    )
    layer = model.get_layer("hidden1_leaky_relu")
    np.testing.assert_allclose(
        np.asarray(layer(np.array([[-100.0, 5.0]], np.float32))), [[-1.0, 5.0]]
    )


# ---------------------------------------------------------------------------------------------
# Data.


def test_mnist_5k_is_real_and_split_4k_1k():
    from keras_curriculum import datasets

    data = datasets.load("mnist_5k", batch_size=500, validation_split=0.0)
    assert data.info.num_examples == {"train": 4000, "validation": None, "test": 1000}
    x, y = next(iter(data.test))
    assert x.shape[1:] == (28, 28, 1) and float(np.max(x)) == 1.0
    labels = np.concatenate([np.asarray(y) for _, y in data.test])
    np.testing.assert_array_equal(np.bincount(labels), [100] * 10)  # stratified
    # real digits: a class mean is a recognisable blob, far from the other classes' means
    images, targets = (
        np.concatenate(a)
        for a in zip(*[(np.asarray(x), np.asarray(y)) for x, y in data.train], strict=True)
    )
    means = np.stack([images[targets == k].mean(axis=0).ravel() for k in range(10)])
    assert np.corrcoef(means)[0, 1] < 0.6


def test_iris_class_selection():
    from keras_curriculum import datasets
    from keras_curriculum.errors import ConfigError

    source = datasets.load_source("iris", classes=[1, 2])
    assert source.class_names == ["versicolor", "virginica"]
    assert source.num_classes == 2 and len(source.train[1]) == 100
    with pytest.raises(ConfigError, match="data.classes"):
        datasets.load_source("iris", classes=[0, 7])


@pytest.mark.parametrize("filename", ["lenet5_tfds_mnist.yaml", "cnn_tfds_cifar10.yaml"])
def test_tfds_configs_train_on_mock_data(output_dir, filename):
    """tfds:mnist and tfds:cifar10 need a download; tfds.testing.mock_data runs the real
    tfds.load path on generated examples (plumbing only, never accuracy)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    config = load_config(CONFIGS / filename, [*QUIET, "training.epochs=1", "data.batch_size=16"])
    with tfds.testing.mock_data(num_examples=32):
        result = train(config, output_dir=output_dir)
    assert result.data.info.num_classes == 10
    assert np.isfinite(result.history["loss"][0])
    assert "classification" in result.metrics


def test_logistic_regression_on_breast_cancer(output_dir):
    """softmax_regression with a sigmoid output is logistic regression (two classes, one unit)."""
    config = load_config(
        data={
            "name": "logistic_regression_breast_cancer",
            "model": {"name": "softmax_regression", "output": "sigmoid"},
            "data": {"name": "breast_cancer", "batch_size": 32},
            "training": {
                "epochs": 5,
                "optimizer": {"name": "sgd", "learning_rate": 0.1},
                "loss": "binary_crossentropy",
                "metrics": ["accuracy"],
                "verbose": 0,
                "callbacks": {"tensorboard": False, "backup_and_restore": False},
            },
        }
    )
    result = train(config, output_dir=output_dir)
    assert result.model.count_params() == 31  # 30 weights and a bias
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.test["accuracy"] > 0.9
    assert result.metrics["classification"]["confusion_matrix"] != []
