"""Vision II: VGG, Inception and DenseNet blocks (shapes and closed-form parameter counts), the
notes' remaining plain models, the power schedule and the training-topic configs, test-time
augmentation, and transfer learning in phases (frozen means frozen, --resume keeps the phase)."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import CONFIGS

from keras_curriculum import models
from keras_curriculum.errors import ConfigError
from keras_curriculum.training import load_config

# ---------------------------------------------------------------------------------------------
# Blocks: output shapes and closed-form parameter counts


def block_model(input_shape, block):
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, block(inputs))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_block_shape_and_count(batch_norm):
    from keras_curriculum.models.vgg import vgg_block

    d, f, n = 16, 32, 3
    model = block_model(
        (28, 28, d), lambda x: vgg_block(x, f, convs=n, batch_norm=batch_norm, name="b")
    )
    assert model.output.shape == (None, 14, 14, f)
    if batch_norm:  # no conv bias; γ, β, mean, variance per channel
        expected = 9 * d * f + (n - 1) * 9 * f * f + 4 * n * f
    else:
        expected = f * (9 * d + 1) + (n - 1) * f * (9 * f + 1)
    assert model.count_params() == expected
    names = [layer.name for layer in model.layers]
    assert {"b_conv1", "b_conv3", "b_relu3", "b_maxpool"} <= set(names)


def test_two_3x3_convolutions_cost_less_than_one_5x5():
    """002 §3.3.3: same receptive field, 18·d² against 25·d² weights (no bias, no BN)."""
    d = 64
    stack = keras.Sequential(
        [keras.Input((16, 16, d))]
        + [keras.layers.Conv2D(d, 3, padding="same", use_bias=False) for _ in range(2)]
    )
    single = keras.Sequential(
        [keras.Input((16, 16, d)), keras.layers.Conv2D(d, 5, padding="same", use_bias=False)]
    )
    assert (stack.count_params(), single.count_params()) == (18 * d * d, 25 * d * d)


def test_inception_block_3a_shape_and_count():
    from keras_curriculum.models.inception import InceptionSpec, inception_block

    d = 192
    spec = InceptionSpec(64, 96, 128, 16, 32, 32)  # GoogLeNet's module 3a
    model = block_model((28, 28, d), lambda x: inception_block(x, spec, name="inception3a"))
    assert model.output.shape == (None, 28, 28, 256)
    f1, r3, f3, r5, f5, p = 64, 96, 128, 16, 32, 32
    weights = d * f1 + d * r3 + 9 * r3 * f3 + d * r5 + 25 * r5 * f5 + d * p
    assert model.count_params() == weights + 4 * (f1 + r3 + f3 + r5 + f5 + p)
    assert model.get_layer("inception3a_5x5_reduce_conv").kernel.shape == (1, 1, d, r5)
    # the bottleneck: the 5×5 branch's weights with and without the 1×1 reduction
    assert d * r5 + 25 * r5 * f5 == 15_872 and 25 * d * f5 == 153_600


@pytest.mark.parametrize("bottleneck", [True, False])
def test_dense_block_grows_by_k_and_has_the_closed_form_count(bottleneck):
    from keras_curriculum.models.densenet import dense_block

    d, k, layers = 24, 12, 4
    model = block_model(
        (8, 8, d), lambda x: dense_block(x, layers, k, bottleneck=bottleneck, name="dense1")
    )
    assert model.output.shape == (None, 8, 8, d + layers * k)
    expected = 0
    for i in range(layers):
        c = d + i * k
        if bottleneck:
            expected += 4 * c + 4 * k * c + 4 * 4 * k + 9 * 4 * k * k
        else:
            expected += 4 * c + 9 * c * k
    assert model.count_params() == expected
    assert "dense1_block4_concat" in [layer.name for layer in model.layers]


def test_transition_block_compresses_and_halves():
    from keras_curriculum.models.densenet import transition_block

    c = 60
    model = block_model((8, 8, c), lambda x: transition_block(x, 0.5, name="transition1"))
    assert model.output.shape == (None, 4, 4, 30)
    assert model.count_params() == 4 * c + c * 30


@pytest.mark.parametrize(
    "name, first_block",
    [("inception", "stage1_inception1_concat"), ("densenet", "dense1_block1_concat")],
)
def test_stem_pool_halves_the_resolution_and_adds_no_parameter(name, first_block):
    """GoogLeNet's and the ImageNet DenseNets' 3×3/2 max pooling after the stem."""
    metadata = {"input_shape": (28, 28, 1), "num_classes": 10}
    plain = models.build(name, metadata=metadata)
    pooled = models.build(name, metadata=metadata, stem_pool=True)
    assert plain.get_layer(first_block).output.shape[1:3] == (28, 28)
    assert pooled.get_layer(first_block).output.shape[1:3] == (14, 14)
    assert pooled.count_params() == plain.count_params()


@pytest.mark.parametrize(
    "config, parameters",
    [
        ("vgg_fashion_mnist.yaml", 289_066),
        ("inception_fashion_mnist.yaml", 205_194),
        ("densenet_fashion_mnist.yaml", 152_686),
        ("notes/001_app_a_cheatsheet_cifar_cnn.yaml", 1_250_858),
        ("notes/001_15_2_1_mlp.yaml", 79_510),
    ],
)
def test_configs_build_with_their_documented_counts(config, parameters):
    cfg = load_config(CONFIGS / config)
    metadata = {"input_shape": (28, 28, 1), "num_classes": 10}
    model = models.build(cfg.model.name, metadata=metadata, **cfg.model.arguments)
    assert model.count_params() == parameters
    assert model.output.shape == (None, 10)
    assert f"{parameters:,}" in cfg.description


def test_summary_of_the_new_configs_runs_offline(capsys):
    from keras_curriculum import cli

    for config in ("vgg_fashion_mnist.yaml", "inception_fashion_mnist.yaml"):
        with pytest.raises(SystemExit) as exited:
            cli.main(["summary", "-c", str(CONFIGS / config), "--set", "data.train_size=100"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "Total params" in out and "global_average_pool" in out


# ---------------------------------------------------------------------------------------------
# The power schedule and the training-topic configs


def test_power_schedule_follows_the_formula_and_is_inverse_time_for_c_1():
    from keras_curriculum import objectives

    config = load_config(
        CONFIGS / "topics" / "power_schedule.yaml", ["training.optimizer.schedule.power=0.5"]
    )
    schedule = objectives.build_schedule(config.training.optimizer, steps_per_epoch=10, epochs=3)
    for step in (0, 7, 20, 100):
        assert float(schedule(step)) == pytest.approx(0.05 * (1 + step / 20) ** -0.5, rel=1e-6)
    inverse = keras.optimizers.schedules.InverseTimeDecay(0.05, 20, 1.0)
    power = objectives.PowerDecay(0.05, 20, 1.0)
    assert float(power(33)) == pytest.approx(float(inverse(33)), rel=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(power))
    assert float(restored(33)) == float(power(33))


def test_training_topic_configs_build_what_they_name():
    from keras_curriculum import objectives

    adagrad = load_config(CONFIGS / "topics" / "adagrad_exponential_clipnorm.yaml").training
    optimizer = objectives.build_optimizer(adagrad.optimizer, steps_per_epoch=100, epochs=15)
    assert isinstance(optimizer, keras.optimizers.Adagrad) and optimizer.clipnorm == 1.0
    schedule = optimizer._learning_rate  # the schedule object itself
    assert float(schedule(250)) == pytest.approx(0.05 * 0.9**2.5, rel=1e-6)

    adamw = load_config(CONFIGS / "topics" / "adamw_label_smoothing_l1.yaml")
    optimizer = objectives.build_optimizer(adamw.training.optimizer, steps_per_epoch=10, epochs=1)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 1e-4
    loss = objectives.build_loss(adamw.training.loss, {"num_classes": 10})
    probabilities = np.full((1, 10), 0.1, dtype="float32")
    probabilities[0, 3] = 0.1  # uniform: the loss is log 10 whatever the smoothing
    assert float(loss(np.array([3]), probabilities)) == pytest.approx(np.log(10), rel=1e-5)
    confident = np.eye(10, dtype="float32")[[3]] * 0.991 + 0.0009
    smoothed = 0.91 * -np.log(confident[0, 3]) + 0.01 * -np.log(confident[0, 0]) * 9
    assert float(loss(np.array([3]), confident)) == pytest.approx(smoothed, rel=1e-4)
    model = models.build(
        "vgg", metadata={"input_shape": (28, 28, 1), "num_classes": 10}, **adamw.model.arguments
    )
    kernels = [layer for layer in model.layers if getattr(layer, "kernel_regularizer", None)]
    assert kernels and all(layer.kernel_regularizer.l1 == 1e-6 for layer in kernels)


# ---------------------------------------------------------------------------------------------
# Runs: a small CNN with BatchNorm as the source of a backbone, and test-time augmentation

SOURCE = {
    "name": "source",
    "seed": 0,
    "model": {
        "name": "cnn",
        "conv_blocks": [{"filters": 8, "batch_norm": True, "pool": "max"}],
        "dense_units": [16],
    },
    "data": {"name": "fashion_mnist", "train_size": 256, "test_size": 128, "batch_size": 64},
    "training": {"epochs": 1, "verbose": 0, "callbacks": {"tensorboard": False}},
}


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> Path:
    from keras_curriculum.training import train

    output = tmp_path_factory.mktemp("vision2")
    config = load_config(data={**SOURCE, "training": {**SOURCE["training"], "tta": ["flip"]}})
    return train(config, output_dir=output).run_dir


@pytest.mark.slow
def test_tta_identity_equals_plain_evaluation_and_metrics_report_both(source_run, capsys):
    from keras_curriculum import cli
    from keras_curriculum.training.trainer import evaluate

    with pytest.raises(SystemExit) as exited:
        cli.main(["evaluate", str(source_run), "--tta", "flip,shift"])
    assert exited.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    plain = printed["test"]
    assert set(printed["test_tta"]) == set(plain) == {"loss", "accuracy"}
    assert evaluate(source_run, tta=["identity"]) == plain  # exactly
    metrics = json.loads((source_run / "metrics.json").read_text())
    assert set(metrics["test_tta"]) == set(metrics["test"]) == {"loss", "accuracy"}
    assert metrics["test"]["accuracy"] == pytest.approx(plain["accuracy"], abs=1e-6)


def test_tta_averages_the_predictions_of_the_copies():
    from keras_curriculum.evaluation import tta

    model = models.build("cnn", input_shape=(8, 8, 1), num_classes=3, conv_blocks=[])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    flipped = x[:, :, ::-1]
    up = np.pad(x, ((0, 0), (0, 2), (0, 0), (0, 0)))[:, 2:]
    averaged = tta.averaged_model(model, ["flip", "shift"]).predict(x, verbose=0)
    copies = [x, flipped, up]
    assert len(tta.copies(keras.Input((8, 8, 1)), ["flip", "shift"])) == 6
    manual_first_three = np.mean([model.predict(c, verbose=0) for c in copies], axis=0)
    assert not np.allclose(averaged, manual_first_three)  # the other three shifts count too
    with pytest.raises(Exception, match="unknown transform 'rotate'"):
        tta.copies(keras.Input((8, 8, 1)), ["rotate"])


# ---------------------------------------------------------------------------------------------
# Transfer learning


def transfer_config(source_run: Path, phases: list[dict], **backbone) -> dict:
    return {
        "name": "transfer",
        "seed": 1,
        "model": {
            "name": "transfer",
            "backbone": {"run": str(source_run), "up_to": "block1_maxpool", **backbone},
            "dense_units": [8],
        },
        "data": {"name": "fashion_mnist", "train_size": 192, "test_size": 64, "batch_size": 64},
        "training": {
            "verbose": 0,
            "callbacks": {"tensorboard": False},
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "phases": phases,
        },
    }


def backbone_weights(model) -> dict[str, np.ndarray]:
    return {w.path: np.array(w) for w in model.get_layer("backbone").weights}


class Snapshot(keras.callbacks.Callback):
    """The model's weights when training first begins and at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.begin, self.epochs = None, []

    def on_train_begin(self, logs=None):
        if self.begin is None:
            self.begin = [np.array(w) for w in self.model.weights]

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(
            ([np.array(w) for w in self.model.weights], backbone_weights(self.model))
        )


@pytest.mark.slow
def test_frozen_means_frozen_then_fine_tuning_changes_the_backbone(source_run, tmp_path):
    from keras_curriculum.training import train

    source = models.load(source_run / "model.keras")
    original = {
        f"{layer.name}/{w.name}": np.array(w)
        for layer in source.layers
        if layer.name in ("block1_conv1", "block1_bn1")
        for w in layer.weights
    }
    snapshot = Snapshot()
    phases = [
        {"epochs": 1, "backbone": "frozen"},
        {"epochs": 1, "backbone": "trainable", "learning_rate": 0.001},
    ]
    result = train(
        load_config(data=transfer_config(source_run, phases)),
        output_dir=tmp_path,
        callbacks=[snapshot],
    )
    (after_phase1, backbone1), (_, backbone2) = snapshot.epochs
    assert backbone1.keys() == original.keys()
    for name, value in original.items():  # bit-identical to the run they came from
        assert np.array_equal(backbone1[name], value), name
    in_backbone = {id(w) for w in result.model.get_layer("backbone").weights}
    head = [i for i, w in enumerate(result.model.weights) if id(w) not in in_backbone]
    assert any(not np.array_equal(after_phase1[i], snapshot.begin[i]) for i in head)
    # phase 2 trains the convolution; the BatchNorm statistics (inference mode) never move
    assert not np.array_equal(backbone2["block1_conv1/kernel"], original["block1_conv1/kernel"])
    for name in ("block1_bn1/moving_mean", "block1_bn1/moving_variance"):
        assert np.array_equal(backbone2[name], original[name])
    assert len(result.history["loss"]) == 2
    assert json.loads((result.run_dir / "run.json").read_text())["phase"] == 2


class StopAt(keras.callbacks.Callback):
    """Interrupts training when epoch ``epoch`` (0-based) begins, like a kill during it."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("killed")


@pytest.mark.slow
def test_resume_in_phase_two_keeps_phase_two(source_run, tmp_path):
    from keras_curriculum.training import train

    phases = [
        {"epochs": 1, "backbone": "frozen", "learning_rate": 0.01},
        {"epochs": 2, "backbone": 1, "learning_rate": 0.0005},
    ]
    config = load_config(data=transfer_config(source_run, phases))
    assert config.training.epochs == 3
    with pytest.raises(RuntimeError, match="killed"):
        train(config, output_dir=tmp_path, callbacks=[StopAt(2)])  # during phase 2's 2nd epoch
    run_dir = next((tmp_path / "transfer").iterdir())
    assert json.loads((run_dir / "run.json").read_text())["phase"] == 2

    result = train(run_dir / "config.yaml", resume=run_dir)
    history = (run_dir / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["0", "1", "2"]
    assert float(result.model.optimizer.learning_rate) == pytest.approx(0.0005)
    backbone = result.model.get_layer("backbone")
    trainable = [layer.name for layer in backbone.layers if layer.weights and layer.trainable]
    assert trainable == ["block1_conv1"]  # the top 1 layer with weights, BN stays frozen


@pytest.mark.parametrize(
    "backbone, field, words",
    [
        ({"run": "no/such/run"}, "model.backbone.run", "is not a finished run"),
        ({"up_to": "block9_conv"}, "model.backbone.up_to", "has no layer 'block9_conv'"),
        ({"application": "MobileNetV9"}, "model.backbone.application", "unknown"),
    ],
)
def test_bad_backbone_is_a_one_line_error_naming_the_field(source_run, backbone, field, words):
    spec = {"run": str(source_run), **backbone}
    if "application" in backbone:
        spec = backbone
    with pytest.raises(ConfigError) as error:
        models.build("transfer", input_shape=(28, 28, 1), num_classes=10, backbone=spec)
    message = str(error.value)
    assert field in message and words in message and "\n" not in message


def test_application_backbone_builds_offline_and_freezes():
    from keras_curriculum.config import PhaseConfig
    from keras_curriculum.training import phases

    model = models.build(
        "transfer",
        input_shape=(28, 28, 1),
        num_classes=10,
        backbone={"application": "MobileNetV3Small", "weights": None},
        image_size=(32, 32),
    )
    assert model.get_layer("backbone").inputs[0].shape == (None, 32, 32, 3)
    phases.set_trainable(model, PhaseConfig(epochs=1, backbone="frozen"))
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {"predictions"}
    phases.set_trainable(model, PhaseConfig(epochs=1, backbone=2))
    trainable = [w.path for w in model.get_layer("backbone").trainable_weights]
    assert trainable and not any("bn" in p.lower().split("/")[-2] for p in trainable)


def test_fashion_mnist_class_subset_relabels_and_describes_itself():
    """The transfer experiment's data: classes 5–9 alone, labelled 0–4, 1 % of their labels."""
    from keras_curriculum import datasets
    from keras_curriculum.datasets.fashion_mnist import CLASS_NAMES, load_arrays

    source = datasets.load_source("fashion_mnist", classes=[5, 6, 7, 8, 9], train_size=300)
    assert np.bincount(source.train[1]).tolist() == [60] * 5  # stratified
    assert len(source.test[1]) == 5000 and source.num_classes == 5
    assert source.class_names == CLASS_NAMES[5:]
    description = datasets.description("fashion_mnist", classes=[5, 6, 7, 8, 9])
    assert (description.num_classes, description.class_names) == (5, CLASS_NAMES[5:])
    # the same images as the full set's, in the given order of classes
    _, (x_test, y_test) = load_arrays()
    first_sandal = x_test[y_test == 5][0]
    np.testing.assert_array_equal(
        source.test[0][source.test[1] == 0][0, ..., 0] * 255, first_sandal
    )
    with pytest.raises(ConfigError, match="data.classes"):
        datasets.load_source("fashion_mnist", classes=[4, 10])
