"""The notes' perceptron/MLP/CNN/ResNet architectures (CURRICULUM.md's fixture table) build from
their YAML configs under configs/notes/ with exactly the published parameter counts, and the
notes' convolution arithmetic holds for Keras layers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONFIGS

# config file → parameter count, as listed in CURRICULUM.md (checked there with Keras 3)
NOTES_FIXTURES = {
    "000_ann_mlp.yaml": 4_810,
    "000_conv_5x5_valid.yaml": 608,
    "000_conv_2x2_stride2_pad2.yaml": 104,
    "000_resnet_image_to_image.yaml": 152_259,  # 1,792 + 2 × 74,368 + 1,731 (built, see below)
    "001_fig17_1_conv6.yaml": 456,
    "001_b6_cifar_cnn.yaml": 4_200_842,
    "001_app_a_mlp.yaml": 669_706,  # 401,920 + 262,656 + 5,130
    "002_3_2_5_gap_cnn.yaml": 30_485,
    "003_2_13_cifar10_cnn.yaml": 122_570,
    "004_l5_bottleneck.yaml": 164_160,
    "004_l5_direct_3x3.yaml": 590_080,
}


def build_from_config(path):
    from keras_curriculum import models
    from keras_curriculum.training import load_config

    config = load_config(path)
    return models.build(config.model.name, **config.model.arguments)


@pytest.mark.parametrize("filename, parameters", sorted(NOTES_FIXTURES.items()))
def test_notes_architecture_has_the_published_parameter_count(filename, parameters):
    model = build_from_config(CONFIGS / "notes" / filename)
    assert model.count_params() == parameters


def test_notes_conv_output_shapes():
    """000: 32×32×3 with K=5, P=0 → 28×28×8; K=2, S=2, P=2 → 18×18×8."""
    assert build_from_config(CONFIGS / "notes" / "000_conv_5x5_valid.yaml").output.shape == (
        None,
        28,
        28,
        8,
    )
    assert build_from_config(CONFIGS / "notes" / "000_conv_2x2_stride2_pad2.yaml").output.shape == (
        None,
        18,
        18,
        8,
    )


def test_image_to_image_resnet_count_from_its_layers():
    """The 000 ResNet's count, derived layer by layer: Conv(64) on 3 channels, two residual
    blocks of two Conv(64)+BN each, Conv(3) on 64 channels."""
    conv = lambda k, c_in, f: f * (k * k * c_in + 1)  # noqa: E731
    batch_norm = 4 * 64  # γ, β, moving mean, moving variance
    block = 2 * (conv(3, 64, 64) + batch_norm)
    expected = conv(3, 3, 64) + 2 * block + conv(3, 64, 3)
    assert expected == NOTES_FIXTURES["000_resnet_image_to_image.yaml"]
    model = build_from_config(CONFIGS / "notes" / "000_resnet_image_to_image.yaml")
    assert model.output.shape == (None, 64, 64, 3)


def test_bottleneck_block_against_direct_convolution():
    """004 L5 with the ResNet helpers: He's bottleneck (1×1 → 3×3 → 1×1) is far cheaper than
    two 3×3 convolutions at full width, and keeps the 28×28×256 shape."""
    import keras

    from keras_curriculum.models.resnet import bottleneck_block, residual_block

    inputs = keras.Input((28, 28, 256))
    bottleneck = keras.Model(inputs, bottleneck_block(inputs, 64, use_bias=True))
    basic = keras.Model(inputs, residual_block(inputs, 256, use_bias=True))
    bn = lambda c: 4 * c  # noqa: E731
    # 1×1 256→64, 3×3 64→64, 1×1 64→256, each with bias and batch norm; identity shortcut.
    expected = (256 + 1) * 64 + bn(64) + (9 * 64 + 1) * 64 + bn(64) + (64 + 1) * 256 + bn(256)
    assert bottleneck.count_params() == expected
    assert basic.count_params() == 2 * (590_080 + bn(256))
    assert bottleneck.output.shape == (None, 28, 28, 256)


def resnet_v1_parameters(depth: int, channels: int, classes: int) -> int:
    """ResNet-v1 counted by hand: bias-free 3×3 convolutions each followed by batch norm (4 numbers
    per channel), a 1×1 projection + BN where a stage starts, global pooling and a dense head."""
    n = (depth - 2) // 6
    conv_bn = lambda k, c_in, f: k * k * c_in * f + 4 * f  # noqa: E731
    total = conv_bn(3, channels, 16)
    c_in = 16
    for filters in (16, 32, 64):
        for _ in range(n):
            total += conv_bn(3, c_in, filters) + conv_bn(3, filters, filters)
            if c_in != filters:
                total += conv_bn(1, c_in, filters)
            c_in = filters
    return total + (64 + 1) * classes


@pytest.mark.parametrize("depth", [20, 32, 56])
def test_resnet_v1_depths(depth):
    """He et al. §4.2: 6n + 2 layers with 16/32/64 filters; ResNet-20/32/56 have about
    0.27M/0.46M/0.85M parameters on CIFAR-10."""
    from keras_curriculum import models

    model = models.build("resnet", input_shape=(32, 32, 3), num_classes=10, depth=depth)
    assert model.count_params() == resnet_v1_parameters(depth, 3, 10)
    paper = {20: 0.27e6, 32: 0.46e6, 56: 0.85e6}[depth]
    assert abs(model.count_params() - paper) / paper < 0.03  # the paper: parameter-free shortcuts
    convs = [
        layer
        for layer in model.layers
        if layer.name.endswith("_conv") and "projection" not in layer.name
    ]
    assert len(convs) + 1 == depth  # 6n + 1 convolutions and the dense layer


def test_resnet_rejects_a_depth_that_is_not_6n_plus_2():
    from keras_curriculum import models
    from keras_curriculum.errors import ConfigError

    with pytest.raises(ConfigError, match="model.depth"):
        models.build("resnet", input_shape=(32, 32, 3), num_classes=10, depth=21)


# ---------------------------------------------------------------------------------------------
# Worked convolutions (CURRICULUM.md "Worked examples"): Keras layers with set weights.

SIGNAL = np.array([1, 3, -2, 0, 2, -1, 3, 1, 2], dtype=np.float32)
KERNEL = np.array([2, 1, -1], dtype=np.float32)


def conv1d(signal, kernel, bias, *, strides, padding):
    import keras

    x = signal.reshape(1, -1, 1)
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (0, 0)))
    layer = keras.layers.Conv1D(1, len(kernel), strides=strides, padding="valid")
    layer.build(x.shape)
    # Keras' "convolution" is a cross-correlation, as is the notes' worked example.
    layer.set_weights([kernel.reshape(-1, 1, 1), np.array([bias], dtype=np.float32)])
    return np.asarray(layer(x)).ravel()


@pytest.mark.parametrize(
    "strides, padding, expected",
    [
        (1, 0, [9, 6, -4, 5, 2, 2, 7]),
        (2, 0, [9, -4, 2, 7]),
        (1, 1, [0, 9, 6, -4, 5, 2, 2, 7, 6]),
        (4, 1, [0, 5, 6]),
        (4, 0, [9, 2]),  # (9 − 3)/4 + 1 = 2.5: the notes call it incompatible; Keras floors it
    ],
)
def test_worked_1d_convolution(strides, padding, expected):
    np.testing.assert_allclose(
        conv1d(SIGNAL, KERNEL, 2.0, strides=strides, padding=padding), expected
    )


def test_worked_1d_convolution_without_bias():
    """(1, 2, 3, 4) ⊛ (3, 2) = (7, 12, 17)."""
    result = conv1d(
        np.array([1, 2, 3, 4], np.float32), np.array([3, 2], np.float32), 0.0, strides=1, padding=0
    )
    np.testing.assert_allclose(result, [7, 12, 17])


def test_worked_2d_convolution():
    """003 §2.3: one 3×3 patch of a channel times the kernel gives 308 (before the bias)."""
    import keras

    patch = np.array([[0, 0, 0], [0, 156, 155], [0, 153, 154]], dtype=np.float32)
    kernel = np.array([[-1, -1, 1], [0, 1, -1], [0, 1, 1]], dtype=np.float32)
    layer = keras.layers.Conv2D(1, 3, padding="valid", use_bias=False)
    layer.build((1, 3, 3, 1))
    layer.set_weights([kernel.reshape(3, 3, 1, 1)])
    assert float(np.asarray(layer(patch.reshape(1, 3, 3, 1))).squeeze()) == 308.0


def output_size(i: int, k: int, p: int, s: int) -> int:
    """O = (I − K + 2P)/S + 1, rounded down."""
    return (i - k + 2 * p) // s + 1


@pytest.mark.parametrize(
    "i, k, p, s, expected",
    [
        (32, 5, 0, 1, 28),
        (32, 5, 2, 1, 32),
        (32, 2, 2, 2, 18),
        (9, 3, 0, 1, 7),
        (9, 3, 1, 4, 3),
        (28, 3, 1, 2, 14),
    ],
)
def test_output_size_formula_matches_keras(i, k, p, s, expected):
    import keras

    assert output_size(i, k, p, s) == expected
    x = keras.Input((i, i, 1))
    y = keras.layers.ZeroPadding2D(p)(x) if p else x
    y = keras.layers.Conv2D(1, k, strides=s, padding="valid")(y)
    assert y.shape[1:3] == (expected, expected)
    # 'same' padding is P = (K − 1)/2 for odd K at stride 1: O = I
    if k % 2 and s == 1:
        assert keras.layers.Conv2D(1, k, padding="same")(x).shape[1] == i


def test_receptive_field_formula():
    """I = O·S + (K − S) − 2P: the 28 outputs of a 5×5 valid conv see all 32 input pixels."""
    assert 28 * 1 + (5 - 1) - 0 == 32
    assert output_size(32, 5, 0, 1) * 1 + (5 - 1) - 2 * 0 == 32
