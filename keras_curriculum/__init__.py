"""keras-curriculum: trainable reference models for a deep-learning course.

>>> import keras_curriculum as kc
>>> config = kc.load_config("configs/mlp_digits.yaml")          # doctest: +SKIP
>>> result = kc.train(config)                                    # doctest: +SKIP
>>> result.metrics["test"]["accuracy"]                           # doctest: +SKIP
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so that `import keras_curriculum` (and reading a config) does not load TensorFlow.
    if name in ("train", "load_config", "evaluate", "RunResult"):
        from keras_curriculum import training

        return getattr(training, name)
    if name == "ExperimentConfig":
        from keras_curriculum.config import ExperimentConfig

        return ExperimentConfig
    if name in ("models", "datasets", "reports", "objectives", "training", "config"):
        import importlib

        return importlib.import_module(f"keras_curriculum.{name}")
    raise AttributeError(name)
