"""Localization and detection: CAM / Grad-CAM, boxes, IoU, NMS, COCO AP, the canvases, and a
few training steps of each new config.

The canvases are SYNTHETIC layouts of real Fashion-MNIST / MNIST items (named as such); the
nucleus boxes come from the real image of the stardist wheel (`keras-curriculum data prepare
nuclei`).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONFIGS, run_cli

# ---------------------------------------------------------------------------------------------
# CAM and Grad-CAM


def gap_dense_model(seed: int = 0):
    """conv(4) → GAP → Dense(5, softmax) on 8×8×3, with seeded weights."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    outputs = keras.layers.Dense(5, activation="softmax", name="predictions")(pooled)
    return keras.Model(inputs, outputs), keras.Model(inputs, features)


def test_cam_is_the_weighted_sum_of_feature_maps_by_hand():
    from keras_curriculum.evaluation.explain import class_activation_maps

    model, features_model = gap_dense_model()
    weights = np.arange(20, dtype=np.float32).reshape(4, 5) / 10 - 1
    model.get_layer("predictions").set_weights([weights, np.full(5, 3.0, np.float32)])
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)
    maps, classes = class_activation_maps(model, images, classes=np.array([1, 4]))
    features = np.asarray(features_model(images))
    for b, c in enumerate((1, 4)):
        by_hand = sum(weights[k, c] * features[b, :, :, k] for k in range(4))
        np.testing.assert_allclose(maps[b], by_hand, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(classes, [1, 4])
    # Its mean plus the bias is the class score before the softmax.
    scores = features.mean(axis=(1, 2)) @ weights + 3.0
    np.testing.assert_allclose(maps.mean(axis=(1, 2)) + 3.0, scores[[0, 1], [1, 4]], rtol=1e-5)


def test_grad_cam_equals_cam_up_to_a_positive_scale_on_gap_dense():
    from keras_curriculum.evaluation.explain import class_activation_maps, grad_cam

    model, _ = gap_dense_model(seed=3)
    images = np.random.default_rng(1).normal(size=(3, 8, 8, 3)).astype(np.float32)
    for target in range(5):
        classes = np.full(3, target)
        cam, _ = class_activation_maps(model, images, classes)
        gradcam, _ = grad_cam(model, images, classes, layer_name="conv")
        # ∂y^c/∂f_k(x, y) = w_k^c / (H·W): Grad-CAM = ReLU(CAM) / 64
        np.testing.assert_allclose(gradcam * 64, np.maximum(cam, 0), rtol=1e-4, atol=1e-6)


def test_cam_refuses_a_model_without_gap_dense_and_grad_cam_names_layers():
    import keras

    from keras_curriculum.errors import CurriculumError
    from keras_curriculum.evaluation.explain import explain

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    images = np.zeros((1, 8, 8, 1), np.float32)
    with pytest.raises(CurriculumError, match="global average pooling"):
        explain(model, images, "cam")
    with pytest.raises(CurriculumError, match="choose from conv"):
        explain(model, images, "gradcam", layer_name="nope")
    maps, _ = explain(model, images + 1, "gradcam")
    assert maps.shape == (1, 8, 8)


def test_pointing_game_hits_inside_the_box_only():
    from keras_curriculum.evaluation.explain import pointing_hits

    maps = np.zeros((2, 10, 10))
    maps[0, 2, 3] = 1  # row 2, column 3 → centre (0.35, 0.25)
    maps[1, 9, 9] = 1
    boxes = np.array([[0.3, 0.2, 0.5, 0.4], [0.3, 0.2, 0.5, 0.4]])
    np.testing.assert_array_equal(pointing_hits(maps, boxes), [True, False])


# ---------------------------------------------------------------------------------------------
# Boxes, IoU, NMS, AP


def test_box_formats_round_trip():
    from keras.utils import bounding_boxes

    boxes = np.array([[10, 20, 50, 60], [0, 0, 96, 48]], np.float32)
    for target in ("xywh", "center_xywh", "yxyx", "rel_xyxy", "rel_center_xywh"):
        there = bounding_boxes.convert_format(boxes, "xyxy", target, height=96, width=96)
        back = bounding_boxes.convert_format(there, target, "xyxy", height=96, width=96)
        np.testing.assert_allclose(np.asarray(back), boxes, atol=1e-4)
    np.testing.assert_allclose(
        np.asarray(bounding_boxes.convert_format(boxes, "xyxy", "xywh")),
        [[10, 20, 40, 40], [0, 0, 96, 48]],
    )


def test_iou_of_known_boxes():
    from keras_curriculum.objectives.detection import paired_iou

    true = np.array([[0, 0, 0.5, 0.5], [0, 0, 0.4, 0.4], [0, 0, 0.2, 0.2], [0, 0, 0.4, 0.2]])
    pred = np.array([[0.25, 0, 0.75, 0.5], [0, 0, 0.4, 0.4], [0.5, 0.5, 1, 1], [0, 0, 0.2, 0.2]])
    # half overlap: 1/3; identical: 1; disjoint: 0; nested half: 1/2
    np.testing.assert_allclose(np.asarray(paired_iou(true, pred)), [1 / 3, 1, 0, 0.5], atol=1e-5)


def test_box_losses_vanish_on_the_true_box_and_grow_with_the_error():
    from keras_curriculum.models.localization import box_loss

    true = np.array([[0.2, 0.2, 0.6, 0.6]] * 3, np.float32)
    pred = true + np.array([[0, 0, 0, 0], [0.02, 0, 0.02, 0], [0.2, 0, 0.2, 0]], np.float32)
    for kind in ("smooth_l1", "ciou"):
        values = np.asarray(box_loss(kind)(true, pred))
        assert values[0] == pytest.approx(0, abs=1e-5)
        assert 0 < values[1] < values[2]
    # smooth L1 (β = 0.05): ½d²/β per coordinate below β, d − β/2 above
    np.testing.assert_allclose(
        np.asarray(box_loss("smooth_l1")(true, pred))[1:], [2 * 0.5 * 0.02**2 / 0.05, 2 * 0.175],
        rtol=1e-4,
    )  # fmt: skip


def test_non_max_suppression_keeps_the_expected_boxes():
    import keras_hub

    boxes = np.array(
        [[[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30], [50, 50, 60, 60]]],
        np.float32,
    )
    scores = np.array([[[0.9], [0.8], [0.6], [0.7], [0.2]]], np.float32)
    nms = keras_hub.layers.NonMaxSuppression(
        "xyxy", from_logits=False, iou_threshold=0.5, confidence_threshold=0.3, max_detections=5
    )
    kept = nms(boxes, scores)
    count = int(np.asarray(kept["num_detections"])[0])
    # boxes 0 and 1 overlap (IoU 0.68): keep 0; 2 and 3 overlap (0.82): keep 3; 4 is too weak
    np.testing.assert_allclose(np.asarray(kept["boxes"])[0, :count], boxes[0, [0, 3]])
    np.testing.assert_allclose(np.asarray(kept["confidence"])[0, :count], [0.9, 0.7])


def test_coco_ap_of_a_perfect_detector_is_1_and_of_a_blind_one_0():
    from keras_curriculum.evaluation.detection import coco_scores

    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 0.5, (5, 3, 2))
    true_boxes = np.concatenate([corners, corners + rng.uniform(0.1, 0.4, (5, 3, 2))], -1)
    true_labels = rng.integers(0, 3, (5, 3))
    true_labels[0, 2] = -1  # padding
    true_boxes[0, 2] = -1
    scores = rng.uniform(0.5, 1, (5, 3))
    perfect = coco_scores(
        true_boxes, true_labels, true_boxes, scores, true_labels, image_size=(96, 96), num_classes=3
    )
    assert perfect.map_50 == pytest.approx(1.0) and perfect.map == pytest.approx(1.0)
    misplaced = np.where(true_labels[..., None] >= 0, 1.0 - true_boxes[..., [2, 3, 0, 1]], -1)
    misplaced[..., :2] = np.minimum(misplaced[..., :2], 0.05)  # tiny boxes in a corner
    misplaced[..., 2:] = misplaced[..., :2] + 0.01
    blind = coco_scores(
        true_boxes, true_labels, misplaced, scores, true_labels, image_size=(96, 96), num_classes=3
    )
    assert blind.map_50 == 0.0 and blind.map == 0.0
    wrong_class = coco_scores(
        true_boxes, true_labels, true_boxes, scores, (true_labels + 1) % 3,
        image_size=(96, 96), num_classes=3,
    )  # fmt: skip
    assert wrong_class.map_50 == pytest.approx(0.0)


# ---------------------------------------------------------------------------------------------
# The data


def test_canvas_boxes_contain_their_objects_pixels_exactly():
    from keras_curriculum.datasets import canvases, fashion_mnist

    (items, labels), _ = fashion_mnist.load_arrays()
    made = canvases.compose(
        items[:500], labels[:500], 12, np.random.default_rng(0), max_objects=4, clutter=6
    )
    for image, boxes, instances in zip(made.images, made.boxes, made.instances, strict=True):
        assert len(boxes) >= 1
        for k, (x0, y0, x1, y1) in enumerate(boxes.astype(int), start=1):
            assert canvases.tight_box(instances == k) == (x0, y0, x1, y1)
            # every nonzero pixel inside the box belongs to the object (clutter stays out)
            inside = image[y0:y1, x0:x1, 0] > 0
            np.testing.assert_array_equal(inside, instances[y0:y1, x0:x1] == k)


def test_canvases_are_reproducible_and_targets_are_relative_boxes():
    from keras_curriculum.datasets import canvases

    options = dict(task="detection", train_size=6, validation_size=2, test_size=3, seed=5)
    first, second = canvases.object_canvases(**options), canvases.object_canvases(**options)
    np.testing.assert_array_equal(first.train[0], second.train[0])
    np.testing.assert_array_equal(first.test[1]["boxes"], second.test[1]["boxes"])
    other = canvases.object_canvases(**{**options, "seed": 6})
    assert not np.array_equal(first.train[0], other.train[0])
    boxes, labels = first.train[1]["boxes"], first.train[1]["labels"]
    assert boxes.shape == (6, 4, 4) and labels.shape == (6, 4)
    real = boxes[labels >= 0]
    assert (real >= 0).all() and (real <= 1).all() and (real[:, 2:] > real[:, :2]).all()
    assert (boxes[labels < 0] == -1).all()
    single = canvases.object_canvases(
        task="localization", train_size=4, validation_size=1, test_size=1
    )
    assert single.train[1]["box"].shape == (4, 4) and single.train[1]["class"].shape == (4,)


def test_nucleus_boxes_come_from_the_instance_mask():
    from keras_curriculum.datasets import canvases

    instances = np.zeros((10, 10), np.int32)
    instances[1:3, 2:6] = 7
    instances[5:9, 4:5] = 2
    np.testing.assert_array_equal(canvases.instance_boxes(instances), [[4, 5, 5, 9], [2, 1, 6, 3]])
    source = canvases.nuclei_boxes(train_crops=4, crop_size=64)
    x, y = source.test
    assert x.shape[1:] == (64, 64, 1) and (y["labels"] >= 0).sum() > 0
    assert source.num_classes == 1 and source.task == "detection"


def test_canvas_option_errors_name_the_field():
    from keras_curriculum.datasets import canvases
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError, match="data.object_sizes"):
        canvases.object_canvases(object_sizes=(40, 200), train_size=2)
    with pytest.raises(ConfigError, match="data.task"):
        canvases.object_canvases(task="segmentation", train_size=2)


# ---------------------------------------------------------------------------------------------
# A few training steps of each new config; the reports and the explain command


QUICK = [
    "data.train_size=96",
    "data.validation_size=16",
    "data.test_size=16",
    "data.batch_size=16",
    "training.epochs=3",
    "training.optimizer.schedule.name=constant",
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "overrides"),
    [
        ("localizer_fashion_canvases", [*QUICK, "data.canvas_size=48", "data.object_sizes=[16,28]"]),
        ("detector_fashion_canvases", [*QUICK, "data.canvas_size=48", "data.object_sizes=[14,22]",
                                       "data.max_objects=2"]),
        ("cam_cnn_fashion_canvases", [*QUICK, "data.canvas_size=48", "data.object_sizes=[16,28]"]),
        ("detector_nuclei", ["data.train_crops=48", "data.crop_size=64", "training.epochs=3",
                             "training.optimizer.schedule.name=constant"]),
    ],
)  # fmt: skip
def test_config_trains_and_its_loss_falls(config, overrides, output_dir):
    from conftest import load_yaml_config

    from keras_curriculum.training import train

    result = train(load_yaml_config(f"{config}.yaml", *overrides), output_dir=output_dir)
    losses = result.history["loss"]
    assert losses[-1] < losses[0], losses
    metrics = result.metrics
    if config.startswith("detector"):
        assert 0 <= metrics["detection"]["map_50"] <= 1
        assert (result.run_dir / "plots" / "precision_recall.png").exists()
    elif config.startswith("localizer"):
        assert {"accuracy", "mean_iou"} <= set(result.test)
        assert (result.run_dir / "plots" / "localization_examples.png").exists()
    else:
        assert (result.run_dir / "plots" / "gradcam.png").exists()
        status = run_cli("keras-curriculum", "explain", str(result.run_dir), "--index", "2",
                         "--method", "cam")  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert (result.run_dir / "explanations" / "cam_test2.png").exists()


def test_configs_validate():
    from conftest import load_yaml_config

    for name in ("localizer_fashion_canvases", "localizer_digit_canvases",
                 "detector_fashion_canvases", "detector_digit_canvases",
                 "cam_cnn_fashion_canvases",
                 "detector_nuclei"):  # fmt: skip
        assert (CONFIGS / f"{name}.yaml").exists()
        load_yaml_config(f"{name}.yaml")


def test_the_canvas_networks_batch_norm_momentum_reaches_every_layer():
    """A few dozen steps an epoch need moving statistics that keep up with the weights: the
    configs' momentum 0.9 is every BatchNorm's, the box head included."""
    import keras

    from keras_curriculum import models

    cnn = models.build(
        "cnn",
        input_shape=(32, 32, 1),
        num_classes=3,
        conv_blocks=[{"filters": 4, "batch_norm": True}, {"filters": 4, "batch_norm": True}],
        batch_norm_momentum=0.9,
    )
    localizer = models.build("localizer", input_shape=(32, 32, 1), num_classes=3, filters=[4, 8])
    for model in (cnn, localizer.network):
        norms = [
            layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        ]
        assert len(norms) >= 2 and {layer.momentum for layer in norms} == {0.9}
    assert localizer.network.get_layer("box_reduce_bn") in norms
