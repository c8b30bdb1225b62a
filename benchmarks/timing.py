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
    compiling step excluded): ``steps`` steps in ``end - start`` seconds.

    With ``steps_per_execution`` > 1 Keras reports once per execution (``batch`` is the
    execution's last step), so the clock starts at the first report at or after ``skip``
    steps and counts the steps between its first and last report."""

    def __init__(self, skip: int):
        super().__init__()
        self.skip = skip
        self.start = self.end = 0.0
        self.first_step = self.last_step = 0

    def on_train_batch_end(self, batch, logs=None):
        if not self.start and batch + 1 >= self.skip:
            self.start, self.first_step = time.perf_counter(), batch + 1
        self.end, self.last_step = time.perf_counter(), batch + 1

    @property
    def steps(self) -> int:
        return self.last_step - self.first_step
