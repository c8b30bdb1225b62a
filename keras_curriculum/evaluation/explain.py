"""Where a classifier looks: class activation maps (CAM) and Grad-CAM (notes 002 §5).

**CAM** (Zhou et al. 2016) needs a network that ends in global average pooling → Dense: with
feature maps f_k(x, y) of the last conv layer and the Dense weights w_k^c of class c, the
class score is y^c = Σ_k w_k^c · mean_{x,y} f_k(x, y) + b^c, so the map

    M_c(x, y) = Σ_k w_k^c f_k(x, y)

says how much each position contributes to y^c (its mean is y^c − b^c).

**Grad-CAM** (Selvaraju et al. 2017) works for any convolutional network: with A^k the maps of
a chosen conv layer and y^c the class score before the softmax,

    α_k^c = mean_{x,y} ∂y^c / ∂A^k(x, y),        L_c = ReLU(Σ_k α_k^c A^k).

On a GAP → Dense network ∂y^c/∂f_k(x, y) = w_k^c / (H·W), so L_c = ReLU(M_c) / (H·W): Grad-CAM
is CAM up to a positive scale (tests/test_detection.py checks it). Maps are upsampled to the
input (bilinear, ``keras.ops.image.resize``) and overlaid on it.

Everything here is ``keras.ops`` except the one gradient, which every backend computes its own
way: :func:`score_gradients` is the only backend-specific function.

The **pointing game** (Zhang et al. 2016) scores a map against ground truth: a hit when the
map's maximum falls inside the object's true box.
"""

from __future__ import annotations

from typing import Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.errors import CurriculumError

Method = Literal["cam", "gradcam"]


def _spatial_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers of a functional model, from its first convolution on, whose output is a 4-D
    feature map ``(B, H, W, K)`` (none for a model without convolutions: an MLP's reshaped
    input is no feature map)."""
    convolutions = [
        index
        for index, layer in enumerate(model.layers)
        if isinstance(
            layer,
            keras.layers.Conv2D | keras.layers.DepthwiseConv2D | keras.layers.SeparableConv2D,
        )
    ]
    if not convolutions:
        return []
    found = []
    for layer in model.layers[convolutions[0] :]:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)
    return found


def is_image_classifier(model: keras.Model) -> bool:
    """Whether Grad-CAM applies: a functional model on images with a conv feature map and a
    class-probability vector output."""
    try:
        inputs, output = model.inputs, model.outputs
    except AttributeError:
        return False
    if not inputs or len(inputs) != 1 or len(output) != 1:
        return False
    return len(inputs[0].shape) == 4 and len(output[0].shape) == 2 and bool(_spatial_layers(model))


def gap_dense(model: keras.Model) -> tuple[keras.layers.Layer, keras.layers.Dense]:
    """The GlobalAveragePooling2D layer and the Dense layer after it (only dropout between),
    which CAM needs; a CurriculumError says why when the model is not GAP → Dense."""
    layers = model.layers
    for index, layer in enumerate(layers):
        if isinstance(layer, keras.layers.GlobalAveragePooling2D):
            rest = [x for x in layers[index + 1 :] if not isinstance(x, keras.layers.Dropout)]
            if len(rest) == 1 and isinstance(rest[0], keras.layers.Dense):
                return layer, rest[0]
            raise CurriculumError(
                f"CAM needs global average pooling followed by one Dense layer; {model.name} has"
                f" {', '.join(x.name for x in rest)} after {layer.name} (use --method gradcam)"
            )
    raise CurriculumError(
        f"CAM needs a global average pooling layer; {model.name} has none (use --method gradcam)"
    )


def class_activation_maps(
    model: keras.Model, images, classes=None
) -> tuple[np.ndarray, np.ndarray]:
    """CAM M_c = Σ_k w_k^c f_k at the feature maps' resolution ``(B, h, w)``, for ``classes``
    (default: each image's predicted class); returns (maps, classes)."""
    pool, dense = gap_dense(model)
    features_model = keras.Model(model.inputs[0], [pool.input, model.outputs[0]])
    features, probabilities = features_model(images, training=False)
    if classes is None:
        classes = ops.argmax(probabilities, axis=-1)
    weights = ops.take(dense.kernel, ops.convert_to_tensor(classes, "int32"), axis=1)  # (K, B)
    maps = ops.einsum("bhwk,kb->bhw", ops.cast(features, "float32"), ops.cast(weights, "float32"))
    return ops.convert_to_numpy(maps), ops.convert_to_numpy(classes)


def score_model(model: keras.Model, layer_name: str | None) -> keras.Model:
    """images → (the conv layer's maps, class scores before the output's softmax/sigmoid)."""
    spatial = _spatial_layers(model)
    if not spatial:
        raise CurriculumError(f"{model.name} has no convolutional feature map for Grad-CAM")
    if layer_name is None:
        layer = spatial[-1]
    else:
        names = [x.name for x in spatial]
        if layer_name not in names:
            raise CurriculumError(
                f"--layer {layer_name}: not a feature-map layer of {model.name}"
                f" (choose from {', '.join(names)})"
            )
        layer = model.get_layer(layer_name)
    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense) and last.activation in (
        keras.activations.softmax,
        keras.activations.sigmoid,
    ):
        # The score before the squashing, as Grad-CAM defines it (a softmax output saturates).
        hidden = last.input
        scores = ops.matmul(hidden, last.kernel) + last.bias
    else:
        scores = model.outputs[0]
    return keras.Model(model.inputs[0], [layer.output, scores])


def score_gradients(model: keras.Model, images, classes):
    """(A, ∂y^c/∂A) of ``model``'s two outputs (maps A, scores y) for each image's class:
    the only backend-specific code of this module."""
    backend = keras.backend.backend()
    images = ops.convert_to_tensor(images, "float32")
    one_hot = ops.one_hot(ops.convert_to_tensor(classes, "int32"), model.outputs[1].shape[-1])
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            maps, scores = model(images, training=False)
            tape.watch(maps)
            chosen = ops.sum(scores * one_hot)
        return maps, tape.gradient(chosen, maps)
    raise CurriculumError(f"Grad-CAM is not implemented for the {backend} backend")


def grad_cam(
    model: keras.Model, images, classes=None, layer_name: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM maps ReLU(Σ_k α_k^c A^k) ``(B, h, w)`` of a conv layer (default: the last
    one) for ``classes`` (default: predicted); returns (maps, classes)."""
    scorer = score_model(model, layer_name)
    if classes is None:
        _, scores = scorer(images, training=False)
        classes = ops.convert_to_numpy(ops.argmax(scores, axis=-1))
    maps, gradients = score_gradients(scorer, images, classes)
    alpha = ops.mean(gradients, axis=(1, 2))  # (B, K)
    heat = ops.relu(ops.einsum("bhwk,bk->bhw", maps, alpha))
    return ops.convert_to_numpy(heat), np.asarray(classes)


def explain(
    model: keras.Model,
    images,
    method: Method = "gradcam",
    classes=None,
    layer_name: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CAM or Grad-CAM maps upsampled to the input size and scaled to [0, 1] per image."""
    if method == "cam":
        if layer_name is not None:
            raise CurriculumError("--layer applies to Grad-CAM only (CAM uses the GAP's input)")
        maps, classes = class_activation_maps(model, images, classes)
    elif method == "gradcam":
        maps, classes = grad_cam(model, images, classes, layer_name)
    else:
        raise CurriculumError(f"unknown method {method!r}: expected cam or gradcam")
    return upsample(maps, np.shape(images)[1:3]), classes


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(B, h, w)`` maps → ``(B, H, W)`` bilinear, each scaled to [0, 1] (min → 0, max → 1)."""
    resized = ops.image.resize(ops.convert_to_tensor(maps, "float32")[..., None], tuple(size))
    resized = ops.convert_to_numpy(resized)[..., 0]
    low = resized.min(axis=(1, 2), keepdims=True)
    high = resized.max(axis=(1, 2), keepdims=True)
    return (resized - low) / np.maximum(high - low, 1e-12)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """An RGB image in [0, 1]: the (grey or RGB) image blended with the jet-coloured map."""
    from matplotlib import colormaps

    image = np.asarray(image, np.float32)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    low, high = image.min(), image.max()
    image = (image - low) / max(high - low, 1e-12)
    coloured = colormaps["jet"](np.clip(heat, 0, 1))[..., :3]
    return np.clip((1 - alpha) * image + alpha * coloured, 0.0, 1.0)


def pointing_hits(maps: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """For each map ``(H, W)``, whether its maximum lies inside the ``rel_xyxy`` box."""
    maps = np.asarray(maps)
    height, width = maps.shape[1:3]
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    rows, cols = (flat // width + 0.5) / height, (flat % width + 0.5) / width
    boxes = np.asarray(boxes)
    return (
        (cols >= boxes[:, 0])
        & (cols <= boxes[:, 2])
        & (rows >= boxes[:, 1])
        & (rows <= boxes[:, 3])
    )
