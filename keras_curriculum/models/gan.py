"""Generative adversarial networks: DCGAN and the conditional GAN.

The idea (Goodfellow et al. 2014; notes 002 §7.2): a generator G turns noise z ~ N(0, I) into
images, a discriminator D tells real images from generated ones, and the two play the minimax
game

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))].

Training alternates: ``discriminator_steps`` (k) updates of D, each on the real batch and a
fresh batch of fakes, then one update of G. G minimises the *non-saturating* loss
−log D(G(z)) rather than log(1 − D(G(z))): the same fixed point, but strong gradients early on,
when D rejects every fake and log(1 − D) is flat. One-sided label smoothing (Salimans et al.
2016) trains D towards 1 − ε on real images (fakes stay at 0), so D does not grow
over-confident.

DCGAN (Radford et al. 2016) is the architecture: G is a dense projection to a small feature
map, then stride-2 transposed convolutions with batch normalisation and ReLU, up to the image;
D mirrors it with stride-2 convolutions and leaky ReLU, no pooling, one logit out. The images
here lie in [0, 1], so G ends in a sigmoid (DCGAN's tanh is for images in [−1, 1]).

The conditional GAN (Mirza & Osindero 2014; 002 §7.2) gives both players the class label y:
G(z, y) sees a one-hot y joined to the noise, D(x, y) sees y as constant one-hot planes
joined to the image's channels, so D rejects a good image of the wrong class and G learns to
draw the class it is asked for.

Written the Keras way (keras-io "DCGAN overriding ``Model.train_step``"): ``train_step`` does
the alternation and ``test_step`` reports both losses without updates, so the shared trainer
trains a GAN with ``training.loss: null``. The config's optimizer updates G; :meth:`compile`
clones it for D (``discriminator_optimizer``), an attribute of the model, so the model's
weights file (checkpoints, ``--resume``) holds both optimizers' iterations and moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

# The one TensorFlow name in a model file: Keras 3 has no backend-neutral gradient API, and
# keras-io's TensorFlow GAN takes its gradients with a tape the same way.
import tensorflow as tf
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_model

LEAKY_SLOPE = 0.2  # DCGAN's discriminator slope
# The generator's batch-norm statistics chase a network that changes every step, so its moving
# averages must forget fast: with Keras' 0.99 they lag far enough behind that inference-mode
# samples are near-black after two epochs while batch-statistics samples match the data.
GENERATOR_BN_MOMENTUM = 0.8


# ---------------------------------------------------------------------------------------------
# Losses.


def discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """Binary cross-entropy of D: real images towards 1 − ``label_smoothing``, fakes towards 0."""
    real = ops.binary_crossentropy(
        ops.full_like(real_logits, 1.0 - label_smoothing), real_logits, from_logits=True
    )
    fake = ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True)
    return ops.mean(real) + ops.mean(fake)


def generator_loss(fake_logits):
    """The non-saturating generator loss, mean −log D(G(z))."""
    return ops.mean(
        ops.binary_crossentropy(ops.ones_like(fake_logits), fake_logits, from_logits=True)
    )


# ---------------------------------------------------------------------------------------------
# Blocks.


def up_block(x, filters: int, *, name: str):
    """Generator block: 4×4 stride-2 transposed convolution → BatchNorm → ReLU (doubles H, W)."""
    x = keras.layers.Conv2DTranspose(
        filters, 4, strides=2, padding="same", use_bias=False, name=f"{name}_deconv"
    )(x)
    x = keras.layers.BatchNormalization(momentum=GENERATOR_BN_MOMENTUM, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def down_block(x, filters: int, *, normalize: bool, name: str):
    """Discriminator block: 4×4 stride-2 convolution → [BatchNorm] → leaky ReLU (halves H, W)."""
    x = keras.layers.Conv2D(
        filters, 4, strides=2, padding="same", use_bias=not normalize, name=f"{name}_conv"
    )(x)
    if normalize:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_lrelu")(x)


def label_input(num_classes: int, name: str):
    """An integer class label (shape (1,)) and its one-hot vector."""
    label = keras.Input(shape=(1,), dtype="int32", name=name)
    one_hot = keras.layers.CategoryEncoding(num_classes, "one_hot", name=f"{name}_one_hot")(label)
    return label, one_hot


def build_generator(
    image_shape: Sequence[int], latent_dim: int, filters: Sequence[int], num_classes: int | None
) -> keras.Model:
    """z [, y] → Dense to (H/2ⁿ, W/2ⁿ, filters[0]) → n up blocks → 5×5 conv, sigmoid."""
    height, width, channels = image_shape
    scale = 2 ** len(filters)
    noise = keras.Input(shape=(latent_dim,), name="noise")
    inputs, x = [noise], noise
    if num_classes:
        label, one_hot = label_input(num_classes, "label")
        inputs.append(label)
        x = keras.layers.Concatenate(name="noise_and_label")([noise, one_hot])
    x = keras.layers.Dense(
        (height // scale) * (width // scale) * filters[0], use_bias=False, name="project"
    )(x)
    x = keras.layers.BatchNormalization(momentum=GENERATOR_BN_MOMENTUM, name="project_bn")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    x = keras.layers.Reshape((height // scale, width // scale, filters[0]), name="project_map")(x)
    for index, count in enumerate(filters):
        x = up_block(x, count, name=f"up{index + 1}")
    images = keras.layers.Conv2D(
        channels, 5, padding="same", activation="sigmoid", dtype="float32", name="images"
    )(x)
    return keras.Model(inputs if num_classes else noise, images, name="generator")


def build_discriminator(
    image_shape: Sequence[int], filters: Sequence[int], num_classes: int | None, dropout: float
) -> keras.Model:
    """x [, y as one-hot planes] → n down blocks (no BN on the first) → dropout → one logit."""
    height, width, _ = image_shape
    images = keras.Input(shape=tuple(image_shape), name="images")
    inputs, x = [images], images
    if num_classes:
        label, one_hot = label_input(num_classes, "label")
        inputs.append(label)
        planes = keras.layers.Reshape((1, 1, num_classes), name="label_map")(one_hot)
        planes = keras.layers.UpSampling2D((height, width), name="label_planes")(planes)
        x = keras.layers.Concatenate(name="image_and_label")([images, planes])
    for index, count in enumerate(filters):
        x = down_block(x, count, normalize=index > 0, name=f"down{index + 1}")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(inputs if num_classes else images, logits, name="discriminator")


# ---------------------------------------------------------------------------------------------
# The model.


@keras.saving.register_keras_serializable(package="keras_curriculum")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other by :meth:`train_step`.

    Calling the model generates: ``model(z)`` or, conditional, ``model([z, y])``. Data are
    ``(images, labels)`` batches; an unconditional GAN ignores the labels."""

    def __init__(
        self,
        *,
        image_shape: Sequence[int],
        latent_dim: int = 64,
        num_classes: int | None = None,
        generator_filters: Sequence[int] = (128, 64),
        discriminator_filters: Sequence[int] = (64, 128),
        discriminator_steps: int = 1,
        label_smoothing: float = 0.1,
        dropout: float = 0.3,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.hyperparameters = dict(
            image_shape=[int(d) for d in image_shape],
            latent_dim=int(latent_dim),
            num_classes=None if num_classes is None else int(num_classes),
            generator_filters=[int(f) for f in generator_filters],
            discriminator_filters=[int(f) for f in discriminator_filters],
            discriminator_steps=int(discriminator_steps),
            label_smoothing=float(label_smoothing),
            dropout=float(dropout),
            seed=seed,
        )
        self.image_shape = tuple(int(d) for d in image_shape)
        self.latent_dim = int(latent_dim)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.discriminator_steps = int(discriminator_steps)
        self.label_smoothing = float(label_smoothing)
        self.generator = build_generator(
            self.image_shape, self.latent_dim, generator_filters, self.num_classes
        )
        self.discriminator = build_discriminator(
            self.image_shape, discriminator_filters, self.num_classes, dropout
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.discriminator_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.real_score_tracker = keras.metrics.Mean(name="real_score")
        self.fake_score_tracker = keras.metrics.Mean(name="fake_score")
        self.discriminator_optimizer = None
        self.built = True  # both players are functional models, built from the known shapes

    @property
    def conditional(self) -> bool:
        return bool(self.num_classes)

    @property
    def metrics(self):
        return [
            self.discriminator_loss_tracker,
            self.generator_loss_tracker,
            self.real_score_tracker,
            self.fake_score_tracker,
        ]

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs: Any) -> None:
        """Compiles with ``optimizer`` for the generator and a clone of it (same class and
        settings, its own state) for the discriminator. Both are built at once, so a weights
        file can restore their state before the first step."""
        super().compile(optimizer=optimizer, loss=None, metrics=None, **kwargs)
        self.discriminator_optimizer = self.optimizer.__class__.from_config(
            self.optimizer.get_config()
        )
        self.optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Re-compiles a loaded model (``model.keras``) through :meth:`compile`."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    # -- training ------------------------------------------------------------------------

    def _generator_inputs(self, batch_size, labels):
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        return [noise, labels] if self.conditional else noise

    def _discriminator_inputs(self, images, labels):
        return [images, labels] if self.conditional else images

    def _unpack(self, data):
        images, labels = (data[0], data[1]) if isinstance(data, tuple | list) else (data, None)
        batch_size = ops.shape(images)[0]
        if self.conditional:
            labels = ops.reshape(ops.cast(labels, "int32"), (batch_size, 1))
        return images, labels, batch_size

    def _game_losses(self, images, labels, batch_size, training: bool):
        fakes = self.generator(self._generator_inputs(batch_size, labels), training=training)
        real_logits = self.discriminator(
            self._discriminator_inputs(images, labels), training=training
        )
        fake_logits = self.discriminator(
            self._discriminator_inputs(fakes, labels), training=training
        )
        d_loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
        return d_loss, generator_loss(fake_logits), real_logits, fake_logits

    def discriminator_step(self, images, labels, batch_size):
        """One update of D on the real batch and a fresh batch of fakes (G is not updated)."""
        with tf.GradientTape() as tape:
            d_loss, _, real_logits, fake_logits = self._game_losses(
                images, labels, batch_size, True
            )
        variables = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply(tape.gradient(d_loss, variables), variables)
        return d_loss, real_logits, fake_logits

    def generator_step(self, labels, batch_size):
        """One update of G against the current D (D is not updated)."""
        with tf.GradientTape() as tape:
            fakes = self.generator(self._generator_inputs(batch_size, labels), training=True)
            fake_logits = self.discriminator(
                self._discriminator_inputs(fakes, labels), training=True
            )
            g_loss = generator_loss(fake_logits)
        variables = self.generator.trainable_variables
        self.optimizer.apply(tape.gradient(g_loss, variables), variables)
        return g_loss

    def train_step(self, data):
        images, labels, batch_size = self._unpack(data)
        for _ in range(self.discriminator_steps):
            d_loss, real_logits, fake_logits = self.discriminator_step(images, labels, batch_size)
        g_loss = self.generator_step(labels, batch_size)
        return self._record(d_loss, g_loss, real_logits, fake_logits)

    def test_step(self, data):
        images, labels, batch_size = self._unpack(data)
        return self._record(*self._game_losses(images, labels, batch_size, False))

    def _record(self, d_loss, g_loss, real_logits, fake_logits):
        self.discriminator_loss_tracker.update_state(d_loss)
        self.generator_loss_tracker.update_state(g_loss)
        # D's mean probability on real and on generated images: 0.5 / 0.5 at the equilibrium.
        self.real_score_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}

    # -- public helpers on arrays ----------------------------------------------------------

    def noise(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` noise vectors z ~ N(0, I), reproducible from ``seed``."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")

    def generate(self, noise, labels=None, batch_size: int = 256) -> np.ndarray:
        """Images in [0, 1] for the rows of ``noise`` (and, conditional, ``labels``)."""
        noise = np.asarray(noise, dtype="float32")
        if self.conditional:
            if labels is None:
                labels = np.arange(len(noise)) % self.num_classes
            inputs = [noise, np.asarray(labels, dtype="int32").reshape(-1, 1)]
        else:
            inputs = noise
        return self.generator.predict(inputs, batch_size=batch_size, verbose=0)

    def sample(self, n: int, seed: int | None = None, labels=None) -> np.ndarray:
        """``n`` new images (conditional: of ``labels``, by default the classes in turn)."""
        return self.generate(self.noise(n, seed), labels)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyperparameters}


def check_image_shape(input_shape: Sequence[int], filters: Sequence[int], field: str) -> None:
    if len(input_shape) != 3:
        raise ConfigError(
            "model.input_shape", f"a GAN needs images (height, width, channels), got {input_shape}"
        )
    scale = 2 ** len(filters)
    if not filters or input_shape[0] % scale or input_shape[1] % scale:
        raise ConfigError(
            field,
            f"{len(filters)} stride-2 blocks need height and width divisible by {scale}, "
            f"got {tuple(input_shape[:2])}",
        )


def _gan(*, input_shape, **options) -> GAN:
    check_image_shape(input_shape, options["generator_filters"], "model.generator_filters")
    check_image_shape(input_shape, options["discriminator_filters"], "model.discriminator_filters")
    if options["discriminator_steps"] < 1:
        raise ConfigError(
            "model.discriminator_steps",
            f"expected at least 1, got {options['discriminator_steps']}",
        )
    if not 0 <= options["label_smoothing"] < 1:
        raise ConfigError(
            "model.label_smoothing", f"expected a value in [0, 1), got {options['label_smoothing']}"
        )
    return GAN(image_shape=input_shape, **options)


@register_model("dcgan")
def dcgan(
    *,
    input_shape: Sequence[int],
    latent_dim: int = 64,
    generator_filters: Sequence[int] = (128, 64),
    discriminator_filters: Sequence[int] = (64, 128),
    discriminator_steps: int = 1,
    label_smoothing: float = 0.1,
    dropout: float = 0.3,
    seed: int | None = None,
    name: str = "dcgan",
) -> keras.Model:
    """DCGAN: a generator of transposed convolutions against a convolutional discriminator.

    Args:
        input_shape: the images' (height, width, channels), from the data.
        latent_dim: size of the noise z ~ N(0, I).
        generator_filters: filters of G's up blocks, widest first; each doubles the size.
        discriminator_filters: filters of D's down blocks; each halves the size.
        discriminator_steps: k, the discriminator updates per generator update.
        label_smoothing: ε of one-sided label smoothing (real targets 1 − ε).
        dropout: dropout before D's logit.
        seed: seed of the training noise.
        name: the model's name.

    Train with ``training.loss: null``: the model computes its own losses.
    """
    return _gan(num_classes=None, **locals())  # every argument above, by name


@register_model("conditional_gan")
def conditional_gan(
    *,
    input_shape: Sequence[int],
    num_classes: int,
    latent_dim: int = 64,
    generator_filters: Sequence[int] = (128, 64),
    discriminator_filters: Sequence[int] = (64, 128),
    discriminator_steps: int = 1,
    label_smoothing: float = 0.1,
    dropout: float = 0.3,
    seed: int | None = None,
    name: str = "conditional_gan",
) -> keras.Model:
    """Conditional DCGAN: G(z, y) and D(x, y) both see the one-hot class label.

    Args:
        input_shape: the images' (height, width, channels), from the data.
        num_classes: number of classes, from the data.
        latent_dim: size of the noise z ~ N(0, I).
        generator_filters: filters of G's up blocks, widest first; each doubles the size.
        discriminator_filters: filters of D's down blocks; each halves the size.
        discriminator_steps: k, the discriminator updates per generator update.
        label_smoothing: ε of one-sided label smoothing (real targets 1 − ε).
        dropout: dropout before D's logit.
        seed: seed of the training noise.
        name: the model's name.

    Train with ``training.loss: null``: the model computes its own losses.
    """
    return _gan(**locals())  # every argument above, by name
