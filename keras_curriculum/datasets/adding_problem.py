"""The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015):
a synthetic task, named as such, that makes the vanishing gradient visible.

Each example is a series of T steps with two features: a value drawn uniformly from [0, 1]
and a marker that is 1 at exactly two steps (one in each half) and 0 elsewhere. The target is
the sum of the two marked values. Always answering 1 (the mean of the sum) gives a mean squared
error of Var(u₁ + u₂) = 2/12 ≈ 0.167; a model beats that only if it carries the first marked
value across about T/2 steps, which a tanh SimpleRNN's vanishing gradient prevents as T grows
while LSTM and GRU learn it.
"""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.source import Source
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

BASELINE_MSE = 2 / 12  # always answering 1: the variance of the sum of two U(0, 1) values


def adding_examples(
    count: int, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` series of shape (length, 2) and their targets (the sum of the marked values)."""
    values = rng.uniform(0.0, 1.0, size=(count, length)).astype(np.float32)
    markers = np.zeros((count, length), dtype=np.float32)
    rows = np.arange(count)
    first = rng.integers(0, length // 2, size=count)
    second = rng.integers(length // 2, length, size=count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1), targets[:, None].astype(np.float32)


@register_dataset("adding_problem")
def adding_problem(
    *, length: int = 100, train_size: int = 10_000, test_size: int = 1_000, seed: int = 0
) -> Source:
    """Synthetic adding problem: (T, 2) series → the sum of the two marked values.

    Args:
        length: T, the number of steps.
        train_size: training series (validation is held out of them).
        test_size: test series, drawn independently.
        seed: the run's seed; the draws follow it.
    """
    if length < 2:
        raise ConfigError("data.length", f"expected at least 2 steps, got {length}")
    rng = np.random.default_rng(seed)
    return Source(
        train=adding_examples(train_size, length, rng),
        test=adding_examples(test_size, length, rng),
        input_shape=(length, 2),
        task="regression",
        extras={"baseline_mse": BASELINE_MSE},
    )
