"""Siamese networks: learn a distance, then recognise classes never seen in training.

The idea (Bromley et al. 1993; notes 002 §6.0.3): one encoder f, shared by every input, maps
an image to an L2-normalised embedding, and the Euclidean distance d(a, b) = ‖f(a) − f(b)‖
should be small for two images of one class and large otherwise. Nothing in f is tied to the
training classes, so a new class can be recognised from a single example (one-shot): a query
belongs to the class of its nearest example.

Two losses teach the distance:

* **contrastive** (Hadsell et al. 2006), on pairs with s = 1 for the same class, 0 otherwise:

      L = s · ½ d² + (1 − s) · ½ max(0, m − d)²

  pulls pairs of one class together and pushes other pairs apart until they are m away.
* **triplet** (Schroff et al. 2015), on an anchor a, a positive p of its class and a negative
  n of another: the triplet condition d(a, p) + m < d(a, n), as a hinge

      L = max(0, d(a, p) − d(a, n) + m)

  (FaceNet writes it with squared distances). Triplets are mined within each labelled batch:
  every (a, p) pair of the batch, with a *random* negative, the *hardest* (nearest) one, or a
  *semi-hard* one: the nearest negative farther than the positive, d(a, p) < d(a, n), which
  lies within the margin when the triplet still has a loss; when the batch has none, the
  farthest negative (as TensorFlow Addons' ``triplet_semihard_loss``). Random and easy
  triplets soon have no loss; the hardest ones early in training collapse f to a point.

Written the Keras way, like the VAE: ``call`` embeds (a pair → stacked embeddings),
``compute_loss`` is the chosen loss, so the shared trainer trains it with
``training.loss: null``. On labelled batches (validation and test of the triplet model, test
of the contrastive one) the contrastive loss takes every pair of the batch, the positive and
the negative pairs weighted equally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import RenamedArguments
from keras_curriculum.models.layers import add_channel
from keras_curriculum.registry import MODELS, register_model

Loss = Literal["contrastive", "triplet"]
Mining = Literal["random", "hard", "semi_hard"]


# ---------------------------------------------------------------------------------------------
# Distances and losses.


def pairwise_distances(embeddings):
    """Euclidean distances between every two rows, (B, D) → (B, B)."""
    squared = ops.sum(ops.square(embeddings), axis=-1)
    gram = ops.matmul(embeddings, ops.transpose(embeddings))
    d2 = ops.maximum(squared[:, None] + squared[None, :] - 2.0 * gram, 0.0)
    # The floor keeps the gradient of the square root finite at d = 0 (the diagonal).
    return ops.sqrt(d2 + 1e-12)


def contrastive_loss(same, distance, margin: float = 1.0):
    """Hadsell et al.'s loss of each pair, s·½d² + (1 − s)·½max(0, m − d)²."""
    same = ops.cast(same, distance.dtype)
    return same * 0.5 * ops.square(distance) + (1.0 - same) * 0.5 * ops.square(
        ops.relu(margin - distance)
    )


def batch_contrastive_loss(embeddings, labels, margin: float = 1.0):
    """The contrastive loss over every pair of a labelled batch: the mean over its positive
    pairs and the mean over its negative pairs, averaged."""
    distances = pairwise_distances(embeddings)
    same = ops.equal(labels[:, None], labels[None, :])
    off_diagonal = ops.logical_not(ops.eye(ops.shape(labels)[0], dtype="bool"))
    losses = contrastive_loss(same, distances, margin)
    positive = ops.cast(ops.logical_and(same, off_diagonal), distances.dtype)
    negative = ops.cast(ops.logical_not(same), distances.dtype)
    mean = lambda mask: ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)  # noqa: E731
    return 0.5 * (mean(positive) + mean(negative))


def mine_negatives(distances, labels, mining: Mining, seed=None):
    """For every (anchor a, positive p) of a batch, the index of its negative n.

    Returns ``(negatives, valid)``, both (B, B) indexed [a, p]: ``valid`` marks the pairs
    with p ≠ a of a's class and at least one negative in the batch."""
    size = ops.shape(labels)[0]
    same = ops.equal(labels[:, None], labels[None, :])
    negative = ops.logical_not(same)  # [a, n]
    positive = ops.logical_and(same, ops.logical_not(ops.eye(size, dtype="bool")))
    valid = ops.logical_and(positive, ops.any(negative, axis=1, keepdims=True))
    big = ops.cast(1e9, distances.dtype)
    to_negative = ops.where(negative, distances, big)  # [a, n]
    if mining == "hard":
        nearest = ops.argmin(to_negative, axis=1)  # the hardest negative of each anchor
        return ops.broadcast_to(nearest[:, None], (size, size)), valid
    if mining == "random":
        scores = keras.random.uniform((size, size, size), seed=seed)  # [a, p, n]
        scores = ops.where(negative[:, None, :], scores, -1.0)
        return ops.argmax(scores, axis=-1), valid
    # Semi-hard: the nearest negative beyond d(a, p); else the farthest negative.
    beyond = ops.logical_and(
        negative[:, None, :], distances[:, None, :] > distances[:, :, None]
    )  # [a, p, n]
    nearest_beyond = ops.argmin(ops.where(beyond, distances[:, None, :], big), axis=-1)
    farthest = ops.argmax(ops.where(negative, distances, -big), axis=1)
    fallback = ops.broadcast_to(farthest[:, None], (size, size))
    return ops.where(ops.any(beyond, axis=-1), nearest_beyond, fallback), valid


def triplet_loss(embeddings, labels, margin: float = 0.5, mining: Mining = "semi_hard", seed=None):
    """Mean hinge max(0, d(a, p) − d(a, n) + m) over the batch's mined triplets."""
    distances = pairwise_distances(embeddings)
    negatives, valid = mine_negatives(distances, labels, mining, seed)
    to_negative = ops.take_along_axis(distances, negatives, axis=1)  # d(a, n[a, p])
    hinge = ops.relu(distances - to_negative + margin)
    mask = ops.cast(valid, distances.dtype)
    return ops.sum(hinge * mask) / ops.maximum(ops.sum(mask), 1.0)


# ---------------------------------------------------------------------------------------------
# The encoder.


def conv_block(x, filters: int, *, name: str):
    """3×3 convolution → BatchNorm → ReLU → 2×2 max pooling."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_encoder(
    input_shape: Sequence[int],
    embedding_dim: int,
    filters: Sequence[int],
    backbone: str | None,
    backbone_options: dict[str, Any],
) -> keras.Model:
    """x → features → Dense(embedding_dim) → L2 normalisation. The features are conv blocks,
    or any registered classifier of the zoo (``backbone``) up to its head."""
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    if backbone:
        network = MODELS.get(backbone).function(
            input_shape=tuple(input_shape), num_classes=2, **backbone_options
        )
        features = keras.Model(network.inputs, network.layers[-1].input, name=backbone)(inputs)
    else:
        x = add_channel(inputs, input_shape)
        for index, count in enumerate(filters):
            x = conv_block(x, count, name=f"block{index + 1}")
        features = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(embedding_dim, dtype="float32", name="embedding")(features)
    x = keras.layers.UnitNormalization(name="l2_normalize")(x)
    return keras.Model(inputs, x, name="encoder")


# ---------------------------------------------------------------------------------------------
# The model.


@register_model("siamese")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class Siamese(RenamedArguments, keras.Model):
    """Siamese network: a shared encoder of L2-normalised embeddings, contrastive or triplet loss.

    A shared ``encoder``: ``model(x)`` embeds images, ``model((x1, x2))`` a batch of pairs as
    (B, 2, D). Train with ``training.loss: null``: the model computes its own loss.

    Args:
        input_shape: the images' shape, from the data.
        embedding_dim: size of the embedding.
        filters: filters of the encoder's conv blocks (each halves the size).
        backbone: a registered classifier of the zoo (e.g. ``cnn``) to use, up to its head,
            instead of the conv blocks.
        backbone_options: that classifier's own arguments.
        loss: ``contrastive`` (train on pairs: ``data.pairs: true``) or ``triplet`` (train on
            labelled batches).
        margin: m of either loss (distances of unit vectors lie in [0, 2]).
        mining: the triplet loss's negatives: ``random``, ``hard`` or ``semi_hard``.
        seed: seed of random mining.
        name: the model's name.
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int],
        embedding_dim: int = 64,
        filters: Sequence[int] = (32, 64, 128),
        backbone: str | None = None,
        backbone_options: dict[str, Any] | None = None,
        loss: Loss = "contrastive",
        margin: float = 1.0,
        mining: Mining = "semi_hard",
        seed: int | None = None,
        name: str = "siamese",
        **kwargs: Any,
    ):
        if backbone is not None and backbone not in MODELS.available():
            raise ConfigError("model.backbone", f"unknown model '{backbone}'")
        if margin <= 0:
            raise ConfigError("model.margin", f"expected a positive margin, got {margin}")
        super().__init__(name=name, **kwargs)
        self.hyperparameters = dict(
            input_shape=[int(d) for d in input_shape],
            embedding_dim=int(embedding_dim),
            filters=[int(f) for f in filters],
            backbone=backbone,
            backbone_options=dict(backbone_options or {}),
            loss=loss,
            margin=float(margin),
            mining=mining,
            seed=seed,
        )
        self.loss_name = loss
        self.margin = float(margin)
        self.mining = mining
        self.encoder = build_encoder(
            input_shape, embedding_dim, filters, backbone, dict(backbone_options or {})
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if isinstance(inputs, tuple | list):
            first, second = inputs
            return ops.stack(
                [self.encoder(first, training=training), self.encoder(second, training=training)],
                axis=1,
            )
        return self.encoder(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Pairs (y_pred (B, 2, D), y = same) → the contrastive loss of each pair; labelled
        images (y_pred (B, D), y = labels) → the configured loss over the batch."""
        if len(y_pred.shape) == 3:
            if self.loss_name != "contrastive":
                raise ValueError("a triplet-loss model trains on labelled batches, not pairs")
            distance = ops.sqrt(ops.sum(ops.square(y_pred[:, 0] - y_pred[:, 1]), axis=-1) + 1e-12)
            return ops.mean(contrastive_loss(ops.reshape(y, (-1,)), distance, self.margin))
        labels = ops.reshape(ops.cast(y, "int32"), (-1,))
        if self.loss_name == "contrastive":
            return batch_contrastive_loss(y_pred, labels, self.margin)
        return triplet_loss(y_pred, labels, self.margin, self.mining, self.seed_generator)

    def embed(self, x, batch_size: int = 256):
        """Embeddings of the images ``x`` (NumPy)."""
        return self.encoder.predict(ops.convert_to_numpy(x), batch_size=batch_size, verbose=0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyperparameters}
