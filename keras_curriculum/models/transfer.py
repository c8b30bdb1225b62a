"""Transfer learning: reuse what a network learnt on one task as the features of another.

The idea (notes 001 §21, 002 §3.3.2, 003 §3): the early layers of a trained network detect
edges, textures and parts that are useful well beyond its own classes. Keep them (the
*backbone*), put a new classifier head on top, train the head alone while the backbone is
frozen, then fine-tune everything — or the top few layers — at a much lower rate. With few
labels this beats training from scratch, since only the head has to be learnt from them.

The backbone comes from either

- a finished run of this project: its ``model.keras`` up to (and including) the layer
  ``up_to`` (default: the layer before the classifier), or
- a ``keras.applications`` network by name without its top, with ``weights: imagenet`` on a
  connected machine (``weights: null``: the same architecture, randomly initialised).

It is nested in the new model as one layer named ``backbone`` and called with
``training=False``, so its BatchNorm layers stay in inference mode even once unfrozen
(Keras' fine-tuning guide: updating their statistics on the small new data set would wreck
what was learnt). Training in phases — frozen, then unfrozen at a lower rate — is the
trainer's ``training.phases`` (``training/phases.py``), which finds the layer by that name::

    model:
      name: transfer
      backbone: {run: runs/cnn_fashion_mnist/20260101-120000, up_to: dense1_dropout}
    training:
      phases:
        - {epochs: 5, backbone: frozen, learning_rate: 1.0e-3}
        - {epochs: 5, backbone: trainable, learning_rate: 1.0e-4}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras

from keras_curriculum.errors import ConfigError, did_you_mean
from keras_curriculum.models.layers import add_channel, output_layer
from keras_curriculum.registry import register_model

BACKBONE_LAYER = "backbone"  # the name training/phases.py freezes and unfreezes


@dataclass
class Backbone:
    """Where the backbone comes from: ``run`` (+ ``up_to``) or ``application`` (+ ``weights``)."""

    run: str | None = None
    up_to: str | None = None
    application: str | None = None
    weights: str | None = None


def _from_run(spec: Backbone) -> keras.Model:
    run = Path(spec.run)
    if not (run / "model.keras").is_file():
        raise ConfigError(
            "model.backbone.run", f"{spec.run} is not a finished run (it has no model.keras)"
        )
    source = keras.saving.load_model(run / "model.keras")
    names = [layer.name for layer in source.layers]
    up_to = spec.up_to or names[-2]  # the layer before the classifier
    if up_to not in names:
        raise ConfigError(
            "model.backbone.up_to",
            f"the model of {spec.run} has no layer '{up_to}'{did_you_mean(up_to, names)}",
        )
    return keras.Model(source.inputs, source.get_layer(up_to).output, name=BACKBONE_LAYER)


def _from_application(spec: Backbone, input_shape: tuple[int, ...]) -> keras.Model:
    names = [n for n in dir(keras.applications) if n[:1].isupper()]
    if spec.application not in names:
        raise ConfigError(
            "model.backbone.application",
            f"unknown keras.applications network '{spec.application}'"
            f"{did_you_mean(spec.application, names)}",
        )
    network = getattr(keras.applications, spec.application)
    base = network(include_top=False, weights=spec.weights, input_shape=input_shape)
    # Re-wrapped so that the nested layer has the name the phases look for.
    return keras.Model(base.inputs, base.output, name=BACKBONE_LAYER)


def load_backbone(spec: Backbone, input_shape: Sequence[int] = (224, 224, 3)) -> keras.Model:
    """The backbone ``spec`` describes, as a model named ``backbone`` (an application network
    is built for ``input_shape``, which needs 3 channels)."""
    if (spec.run is None) == (spec.application is None):
        raise ConfigError(
            "model.backbone", "give either run (a finished run) or application (a network name)"
        )
    if spec.run is not None:
        return _from_run(spec)
    return _from_application(spec, tuple(input_shape))


@register_model("transfer")
def transfer(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    backbone: Backbone,
    image_size: tuple[int, int] | None = None,
    head: Literal["global_average", "flatten"] = "global_average",
    dense_units: Sequence[int] = (),
    dropout: float = 0.0,
    output_activation: str | None = "softmax",
    name: str = "transfer",
) -> keras.Model:
    """A backbone from a finished run or keras.applications under a new classifier head.

    Args:
        backbone: ``{run: RUN_DIR, up_to: LAYER}`` or ``{application: NAME, weights: imagenet|null}``.
        image_size: resize the images to (H, W) first (application networks need ≥ 32×32);
            grey images are repeated to the 3 channels an application network takes.
        head: how 4-D features become a vector (ignored when the backbone's output is flat).
        dense_units: hidden dense layers of the new head.
        dropout: dropout before each dense layer of the head.
        output_activation: activation of the output layer (null: logits).
        name: the model's name.
    """
    # Not "inputs": a backbone from a run has an input of that name, and names must be unique
    # within a model, nested ones included, once a report looks inside it.
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = add_channel(inputs, input_shape)
    if image_size is not None:
        x = keras.layers.Resizing(*image_size, name="resize")(x)
    if backbone.application is not None:
        if x.shape[-1] == 1:
            x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
        base = load_backbone(backbone, tuple(x.shape[1:]))
    else:
        base = load_backbone(backbone)
    x = base(x, training=False)  # BatchNorm in inference mode, also once unfrozen
    if len(x.shape) == 4:
        # The backbone's feature maps as a layer of this model (a nested model's own `output`
        # is a tensor of its inner graph): what Grad-CAM and other probes look at.
        x = keras.layers.Identity(name="features")(x)
        pooling = (
            keras.layers.GlobalAveragePooling2D(name="global_average_pool")
            if head == "global_average"
            else keras.layers.Flatten(name="flatten")
        )
        x = pooling(x)
    for index, units in enumerate(dense_units, start=1):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"head_dropout{index}")(x)
        x = keras.layers.Dense(units, activation="relu", name=f"head_dense{index}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = output_layer(num_classes, output_activation)(x)
    return keras.Model(inputs, outputs, name=name)
