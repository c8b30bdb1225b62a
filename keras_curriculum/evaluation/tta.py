"""Test-time augmentation: average a classifier's predictions over transformed copies of each image.

The idea (notes 002 §3.3.1): a network trained with augmentation has learnt that a flipped or
slightly shifted garment is the same garment, so at test time it may look at several such
copies and average its class probabilities; errors the copies do not share cancel out.

Copies, named in ``--tta`` or ``training.tta`` (each image is always also seen as it is):

- ``identity``: the image itself (``--tta identity`` alone is plain evaluation, exactly);
- ``flip``: the image mirrored left-right;
- ``shift``: the image shifted by :data:`SHIFT` pixels up, down, left and right (four copies,
  the uncovered border filled with zeros).

The averaged model is a Keras model around the trained one, compiled with the trained model's
own loss and metrics, so the figures are those of ``model.evaluate``, on averaged predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_curriculum.errors import CurriculumError

TRANSFORMS = ("identity", "flip", "shift")
SHIFT = 2  # pixels; about a tenth of a 28×28 image, like a translation augmentation of 0.1


def _shift(x, rows: int, cols: int, name: str):
    """Shifts (B, H, W, C) images by ``rows`` down and ``cols`` right, filling with zeros."""
    padding = ((max(rows, 0), max(-rows, 0)), (max(cols, 0), max(-cols, 0)))
    cropping = ((max(-rows, 0), max(rows, 0)), (max(-cols, 0), max(cols, 0)))
    x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
    return keras.layers.Cropping2D(cropping, name=f"{name}_crop")(x)


def copies(x, transforms: Sequence[str]) -> list:
    """The image batch ``x`` as itself plus one entry per transformed copy."""
    unknown = [t for t in transforms if t not in TRANSFORMS]
    if unknown:
        raise CurriculumError(
            f"--tta: unknown transform '{unknown[0]}' (available: {', '.join(TRANSFORMS)})"
        )
    out = [x]
    if "flip" in transforms:
        out.append(keras.layers.Lambda(lambda y: keras.ops.flip(y, axis=2), name="tta_flip")(x))
    if "shift" in transforms:
        for rows, cols, where in ((-SHIFT, 0, "up"), (SHIFT, 0, "down"), (0, -SHIFT, "left"), (0, SHIFT, "right")):  # fmt: skip
            out.append(_shift(x, rows, cols, name=f"tta_shift_{where}"))
    return out


def averaged_model(model: keras.Model, transforms: Sequence[str]) -> keras.Model:
    """A model whose output is ``model``'s averaged over the copies of its input image, compiled
    like ``model`` (which must be compiled: a loaded ``model.keras`` is)."""
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if shape is None or len(shape) != 3:
        raise CurriculumError(
            f"test-time augmentation needs a model of (H, W, C) images, got input shape {shape}"
        )
    inputs = keras.Input(shape=shape, name="tta_inputs")
    outputs = [model(copy) for copy in copies(inputs, transforms)]
    average = outputs[0] if len(outputs) == 1 else keras.layers.Average(name="tta_average")(outputs)
    wrapper = keras.Model(inputs, average, name=f"{model.name}_tta")
    wrapper.compile_from_config(model.get_compile_config())
    return wrapper


def evaluate(model: keras.Model, dataset, transforms: Sequence[str]) -> dict[str, Any]:
    """``model``'s compiled metrics on ``dataset`` with test-time augmentation."""
    wrapper = averaged_model(model, transforms)
    return {k: float(v) for k, v in wrapper.evaluate(dataset, return_dict=True, verbose=0).items()}
