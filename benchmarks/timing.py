"""Keras callbacks the benchmarks time training with (imported beside the scripts, like
``tables.py``)."""

from __future__ import annotations

import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``seconds`` of wall time have passed (checked after every step)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.started > self.seconds:
            self.model.stop_training = True


class StepClock(keras.callbacks.Callback):
    """Times the steps of one epoch after the first ``skip`` (pipeline start-up and the
    compiling step excluded): ``end - start`` seconds."""

    def __init__(self, skip: int):
        super().__init__()
        self.skip = skip
        self.start = self.end = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.skip:
            self.start = time.perf_counter()
        self.end = time.perf_counter()
