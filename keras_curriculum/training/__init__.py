"""Training: the shared trainer, run directories and the runtime (precision, distribution,
seeding).

>>> import keras_curriculum as kc
>>> config = kc.load_config("configs/mlp_digits.yaml", ["training.epochs=3"])   # doctest: +SKIP
>>> result = kc.train(config)                                                   # doctest: +SKIP
"""

from keras_curriculum.training.checks import check_config, load_config
from keras_curriculum.training.trainer import RunResult, evaluate, load_model, prepare, train

__all__ = ["RunResult", "check_config", "evaluate", "load_config", "load_model", "prepare", "train"]
