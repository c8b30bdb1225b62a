"""Where and in which precision a run computes: seeding, precision policy, tf.distribute strategy."""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf


def seed_everything(seed: int, *, deterministic: bool) -> None:
    """Seeds Python, NumPy, TensorFlow and Keras; with ``deterministic`` also asks TensorFlow
    for deterministic kernels, so the same seed gives the same history."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def resolve_precision(name: str) -> str:
    """``auto`` is mixed_float16 on a CUDA GPU of compute capability ≥ 7.0 (tensor cores),
    float32 everywhere else."""
    if name != "auto":
        return name
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability and tuple(capability) >= (7, 0):
            return "mixed_float16"
    return "float32"


def set_precision(name: str) -> str:
    """Sets the global Keras dtype policy and returns its name. Model factories keep their
    output layers in float32; under mixed_float16, ``compile`` wraps the optimizer in a
    LossScaleOptimizer."""
    policy = resolve_precision(name)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def build_strategy(name: str) -> tf.distribute.Strategy:
    """``none``: the default strategy; ``mirrored``: every visible GPU, or every logical CPU
    device when there is no GPU; ``multi_worker``: one replica set per worker of ``TF_CONFIG``;
    ``auto``: mirrored when more than one GPU is visible."""
    if name == "multi_worker":
        # Before anything lists logical devices: that starts TensorFlow's runtime, after which
        # collective ops can no longer be configured.
        if "TF_CONFIG" not in os.environ:
            from keras_curriculum.errors import ConfigError

            raise ConfigError(
                "training.distribution", "multi_worker needs the TF_CONFIG environment variable"
            )
        return _MultiWorkerStrategy()
    if name == "auto":
        name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=devices)


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy with a ``reduce`` that works around two ways Keras 3 calls
    it: ``fit`` reduces the first ``(x, y)`` batch (a nested structure, which only
    MirroredStrategy accepts) and the per-step logs, scalars, over ``axis=0``."""

    def reduce(self, reduce_op, value, axis):
        parent = super()

        def reduce_leaf(leaf):
            rank = self.experimental_local_results(leaf)[0].shape.rank
            return parent.reduce(reduce_op, leaf, axis if rank else None)

        return tf.nest.map_structure(reduce_leaf, value)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory: always, except on a non-chief worker."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return task_type == "worker" and task_id == 0 and not has_chief
