"""U-Net / FCN segmentation: shapes, config errors, real nuclei data, IoU/Dice, Oxford pets (mocked).

The nuclei tests use the real image from the stardist wheel (prepared by
`keras-curriculum data prepare nuclei`); the shapes data set is synthetic and named as such;
the Oxford-IIIT Pet loader runs through `tfds.testing.mock_data` (no download).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONFIGS, run_cli

# ---------------------------------------------------------------------------------------------
# The models


@pytest.mark.parametrize(
    ("family", "depth", "size", "upsampling", "output_activation"),
    [
        ("unet", 1, (8, 12), "transpose", "softmax"),
        ("unet", 2, (32, 48), "upsample", "softmax"),
        ("unet", 3, (64, 64), "transpose", "sigmoid"),
        ("unet", 4, (32, 80), "upsample", "softmax"),
        ("fcn", 2, (16, 24), "transpose", "sigmoid"),
        ("fcn", 3, (40, 24), "upsample", "softmax"),
    ],
)
def test_output_spatial_shape_equals_input(family, depth, size, upsampling, output_activation):
    from keras_curriculum import models

    model = models.build(
        family,
        input_shape=(*size, 3),
        num_classes=2 if output_activation == "sigmoid" else 4,
        depth=depth,
        base_filters=4,
        upsampling=upsampling,
        output_activation=output_activation,
    )
    channels = 1 if output_activation == "sigmoid" else 4
    assert model.output_shape == (None, *size, channels)
    prediction = model.predict(np.zeros((2, *size, 3), np.float32), verbose=0)
    assert prediction.shape == (2, *size, channels)
    if output_activation == "softmax":
        np.testing.assert_allclose(prediction.sum(axis=-1), 1.0, rtol=1e-5)
    assert ("skip" in " ".join(layer.name for layer in model.layers)) == (family == "unet")


def test_unet_concatenates_each_skip_and_fcn_has_none():
    from keras_curriculum import models

    unet = models.build("unet", input_shape=(32, 32, 1), num_classes=2, depth=3, base_filters=8)
    fcn = models.build("fcn", input_shape=(32, 32, 1), num_classes=2, depth=3, base_filters=8)
    skips = [layer for layer in unet.layers if layer.name.endswith("_skip")]
    assert len(skips) == 3
    # decoder level l joins its up-sampled map (8·2^(l−1) channels) with the encoder's (as many)
    assert [s.output.shape[-1] for s in sorted(skips, key=lambda s: s.name)] == [16, 32, 64]
    assert unet.get_layer("bottleneck_conv2").output.shape[1:] == (4, 4, 64)
    assert fcn.count_params() < unet.count_params()


@pytest.mark.parametrize(
    ("size", "depth"), [((30, 32, 1), 2), ((64, 72, 1), 4), ((100, 100, 3), 3)]
)
def test_size_not_divisible_by_two_to_the_depth_is_a_config_error(size, depth):
    from keras_curriculum import models
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        models.build("unet", input_shape=size, num_classes=2, depth=depth)
    assert caught.value.field == "model.input_shape"
    assert f"2^depth = {2**depth}" in str(caught.value)
    # A dataset names its own size option (extras['input_shape_field']).
    with pytest.raises(ConfigError) as caught:
        models.build(
            "fcn",
            metadata={"input_shape": size, "num_classes": 2, "input_shape_field": "data.crop_size"},
            depth=depth,
        )
    assert caught.value.field == "data.crop_size"


def test_sigmoid_output_needs_a_binary_task():
    from keras_curriculum import models
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError, match="model.output_activation"):
        models.build(
            "unet", input_shape=(16, 16, 1), num_classes=4, depth=2, output_activation="sigmoid"
        )


def test_train_cli_rejects_a_crop_size_the_unet_cannot_pool(tmp_path):
    output = tmp_path / "runs"
    result = run_cli(
        "train",
        "-c",
        str(CONFIGS / "unet_nuclei.yaml"),
        "--output-dir",
        str(output),
        "--set",
        "data.crop_size=68",
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "data.crop_size" in lines[0] and "68×68" in lines[0] and "2^depth = 8" in lines[0]
    assert not output.exists()


# ---------------------------------------------------------------------------------------------
# Real nuclei crops


def _coverage(origins: np.ndarray, crop: int, shape=(512, 512)) -> np.ndarray:
    covered = np.zeros(shape, bool)
    for row, col in origins:
        covered[row : row + crop, col : col + crop] = True
    return covered


@pytest.mark.parametrize(
    ("crop_size", "split_column", "validation_rows"), [(64, 320, 128), (96, 256, 96), (128, 384, 0)]
)
def test_nuclei_train_validation_and_test_crops_never_overlap(
    crop_size, split_column, validation_rows
):
    from keras_curriculum import datasets

    source = datasets.load_source(
        "nuclei",
        crop_size=crop_size,
        split_column=split_column,
        validation_rows=validation_rows,
        train_crops=300,
    )
    origins = source.extras["crop_origins"]
    assert len(origins["train"]) == 300 and source.train[0].shape == (300, crop_size, crop_size, 1)
    # Coordinates: every train crop lies left of the split column and above the validation rows.
    assert (origins["train"][:, 1] + crop_size <= split_column).all()
    assert (origins["train"][:, 0] + crop_size <= 512 - validation_rows).all()
    assert (origins["test"][:, 1] >= split_column).all()
    train = _coverage(origins["train"], crop_size)
    test = _coverage(origins["test"], crop_size)
    assert not (train & test).any()
    assert test[:, split_column:].all()  # the tiles score every held-out pixel
    if validation_rows:
        validation = _coverage(origins["validation"], crop_size)
        assert (origins["validation"][:, 0] >= 512 - validation_rows).all()
        assert not (validation & test).any() and not (validation & train).any()
    else:
        assert source.validation is None


def test_nuclei_crops_hold_the_image_and_its_binary_mask_at_their_coordinates():
    from keras_curriculum import datasets
    from keras_curriculum.datasets.nuclei import load_image_and_mask

    source = datasets.load_source("nuclei", crop_size=64, train_crops=20, augment=False, seed=3)
    _, instances = load_image_and_mask()
    assert instances.shape == (512, 512) and len(np.unique(instances)) > 100  # ~125 nuclei
    for split in ("train", "test"):
        _, masks = getattr(source, split)
        for (row, col), mask in zip(source.extras["crop_origins"][split], masks, strict=True):
            np.testing.assert_array_equal(mask, instances[row : row + 64, col : col + 64] > 0)
    assert set(np.unique(source.test[1])) == {0, 1}
    assert source.task == "segmentation" and source.num_classes == 2


def test_nuclei_crop_that_does_not_fit_names_the_option():
    from keras_curriculum import datasets
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError, match="data.crop_size"):
        datasets.load_source("nuclei", crop_size=256, split_column=384)


def test_a_few_epochs_on_real_nuclei_crops_lower_the_loss_and_report_iou(output_dir):
    import keras

    from keras_curriculum.training import load_config, train

    config = load_config(
        CONFIGS / "unet_nuclei.yaml",
        [
            "model.depth=2",
            "model.base_filters=8",
            "data.crop_size=64",
            "data.train_crops=96",
            "training.epochs=3",
            "training.verbose=0",
            "training.callbacks.tensorboard=false",
        ],
    )
    result = train(config, output_dir=output_dir)
    losses = result.history["loss"]
    assert losses[-1] < losses[0], losses
    report = result.metrics["segmentation"]
    assert set(report["per_class_iou"]) == {"background", "nucleus"}
    assert report["foreground_iou"] == report["per_class_iou"]["nucleus"]
    # Keras' accumulated IoU on the test split agrees with the report's NumPy confusion matrix.
    assert result.metrics["test"]["foreground_iou"] == pytest.approx(
        report["foreground_iou"], abs=1e-3
    )
    assert result.metrics["test"]["foreground_dice"] == pytest.approx(
        report["foreground_dice"], abs=1e-3
    )
    assert (result.run_dir / "plots" / "segmentation_examples.png").stat().st_size > 10_000
    reloaded = keras.saving.load_model(result.run_dir / "model.keras")
    x = result.data.test.take(1).get_single_element()[0]
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5
    )


# ---------------------------------------------------------------------------------------------
# IoU, Dice and the Dice loss against NumPy


def _numpy_overlaps(
    truth: np.ndarray, predicted: np.ndarray, classes
) -> tuple[list[float], list[float]]:
    ious, dices = [], []
    for c in classes:
        t, p = truth == c, predicted == c
        if t.any() or p.any():
            ious.append((t & p).sum() / (t | p).sum())
            dices.append(2 * (t & p).sum() / (t.sum() + p.sum()))
    return ious, dices


def test_iou_and_dice_metrics_match_numpy_on_known_masks():
    from keras_curriculum import objectives
    from keras_curriculum.objectives.confusion import confusion_matrix
    from keras_curriculum.reports.segmentation import summarize

    # A hand-checked case: foreground true at 3 pixels, predicted at 3, shared at 2.
    truth = np.array([[[0, 1], [1, 1]]])
    predicted = np.array([[[1, 1], [0, 1]]])
    (metric,) = objectives.build_metrics(["foreground_iou"], {"num_classes": 2})
    metric.update_state(truth, np.eye(2, dtype=np.float32)[predicted])
    assert float(metric.result()) == pytest.approx(2 / 4)

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, (4, 16, 16))
    predicted = np.where(rng.random(truth.shape) < 0.7, truth, rng.integers(0, 3, truth.shape))
    probabilities = np.eye(3, dtype=np.float32)[predicted] * 0.8 + 0.2 / 3
    metrics = objectives.build_metrics(
        ["mean_iou", "foreground_iou", "foreground_dice"], {"num_classes": 3}
    )
    for metric in metrics:  # two batches: the confusion matrix accumulates
        metric.update_state(truth[:2], probabilities[:2])
        metric.update_state(truth[2:], probabilities[2:])
    all_iou, _ = _numpy_overlaps(truth, predicted, range(3))
    fg_iou, fg_dice = _numpy_overlaps(truth, predicted, (1, 2))
    assert [float(m.result()) for m in metrics] == pytest.approx(
        [np.mean(all_iou), np.mean(fg_iou), np.mean(fg_dice)], abs=1e-6
    )
    summary = summarize(confusion_matrix(truth, predicted, 3), ["background", "a", "b"])
    assert [
        summary["mean_iou"],
        summary["foreground_iou"],
        summary["foreground_dice"],
    ] == pytest.approx([np.mean(all_iou), np.mean(fg_iou), np.mean(fg_dice)], abs=1e-4)

    # One sigmoid channel is thresholded at 0.5.
    truth = rng.integers(0, 2, (3, 8, 8))
    probability = rng.random((3, 8, 8, 1)).astype(np.float32)
    (metric,) = objectives.build_metrics(["foreground_iou"], {"num_classes": 2})
    metric.update_state(truth, probability)
    (expected,), _ = _numpy_overlaps(truth, probability[..., 0] > 0.5, (True,))
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)


def test_dice_loss_is_zero_for_a_perfect_mask_and_matches_the_formula():
    from keras_curriculum import objectives
    from keras_curriculum.config import LossConfig

    dice = objectives.build_loss(LossConfig(name="dice"), {"num_classes": 2})
    both = objectives.build_loss(LossConfig(name="crossentropy_dice"), {"num_classes": 2})
    truth = np.array([[[0, 1], [1, 1]]])
    assert float(dice(truth, np.eye(2, dtype=np.float32)[truth])) == pytest.approx(0.0, abs=1e-6)
    probability = np.array([[[[0.2], [0.9]], [[0.4], [0.7]]]], np.float32)  # one sigmoid channel
    p, t = probability[..., 0], truth.astype(np.float32)
    expected_dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    assert float(dice(truth, probability)) == pytest.approx(expected_dice, rel=1e-5)
    crossentropy = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert float(both(truth, probability)) == pytest.approx(expected_dice + crossentropy, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# Other sources


def test_shapes_is_seeded_and_has_every_class():
    from keras_curriculum import datasets

    first = datasets.load_source("shapes", train_size=40, test_size=10, image_size=32, seed=5)
    again = datasets.load_source("shapes", train_size=40, test_size=10, image_size=32, seed=5)
    np.testing.assert_array_equal(first.train[1], again.train[1])
    np.testing.assert_array_equal(first.test[0], again.test[0])
    assert first.train[0].shape == (40, 32, 32, 3) and first.train[1].shape == (40, 32, 32)
    assert set(np.unique(first.train[1])) == {0, 1, 2, 3}
    assert first.class_names == ["background", "circle", "square", "triangle"]
    assert "SYNTHETIC" in datasets.describe("shapes")


def test_fashion_mnist_masks_cover_the_garments_of_real_images():
    from keras_curriculum import datasets

    source = datasets.load_source("fashion_mnist_masks", train_size=200, test_size=100)
    images, masks = source.train
    assert images.shape == (200, 32, 32, 1) and masks.shape == (200, 32, 32)
    assert source.test[0].shape == (100, 32, 32, 1)
    assert set(np.unique(masks)) == {0, 1}
    assert not masks[:, :2].any() and not masks[:, :, -2:].any()  # the padding is background
    bright = images[..., 0] > 10 / 255  # the default threshold
    assert masks[bright].all()  # every garment pixel is foreground
    assert bright[masks == 1].mean() > 0.95  # the rest are holes filled inside the silhouette
    assert 0.2 < masks.mean() < 0.7


def test_oxford_pets_trimaps_through_tfds_mock_data(output_dir):
    """Runs the real TFDS path on generated examples (tfds.testing.mock_data: no download)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_curriculum import datasets
    from keras_curriculum.datasets.oxford_pets import to_example
    from keras_curriculum.training import load_config, train

    trimap = tf.constant([[1, 2], [3, 2]], tf.uint8)[..., None]
    image, mask = to_example(
        {"image": tf.zeros((2, 2, 3), tf.uint8), "segmentation_mask": trimap}, 2
    )
    np.testing.assert_array_equal(mask.numpy(), [[1, 0], [2, 0]])  # pet 1, background 0, border 2

    with tfds.testing.mock_data(num_examples=12):
        data = datasets.load("oxford_iiit_pet", image_size=32, batch_size=4)
        x, y = next(iter(data.train))
        assert x.shape == (4, 32, 32, 3) and y.shape == (4, 32, 32)
        assert set(np.unique(y.numpy())) <= {0, 1, 2}
        assert data.info.task == "segmentation" and data.info.num_classes == 3

        config = load_config(
            CONFIGS / "unet_oxford_pets.yaml",
            [
                "data.image_size=32",
                "data.batch_size=4",
                "model.depth=2",
                "model.base_filters=4",
                "training.epochs=1",
                "training.verbose=0",
                "training.callbacks.tensorboard=false",
            ],
        )
        result = train(config, output_dir=output_dir)
    assert result.model.output_shape == (None, 32, 32, 3)
    assert set(result.metrics["segmentation"]["per_class_iou"]) == {"background", "pet", "border"}
