"""Training in phases: one run, one model, several ``fit`` calls with different layers trainable.

Transfer learning's recipe (notes 001 §21, 003 §3; Keras' transfer-learning guide): first
train only the new head while the pretrained backbone is frozen — a random head's large
gradients would otherwise wreck the backbone's features — then unfreeze the backbone (or its
top N layers) and fine-tune at a rate ten or more times lower. ``training.phases`` lists the
phases; each sets which part of the model's layer named ``backbone`` trains
(``models/transfer.py`` builds such models), compiles the model with a fresh optimizer at
its own rate (a schedule spans the phase's epochs) and runs its epochs.

The phases form one run: epochs are numbered on across phases (phase 2 of 5 + 5 epochs runs
epochs 6–10), so history.csv, TensorBoard and the checkpoints span them; the callbacks are
the same objects throughout (early stopping ends a phase, and the next one begins). ``run.json`` records the phase of the last finished epoch, and
``--resume`` starts in that phase, with its trainable layers and its rate, from the run's
last backup.

BatchNormalization layers of the backbone stay frozen in every phase: in inference mode,
their statistics and scale keep the pretrained values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from keras_curriculum import objectives
from keras_curriculum.config import PhaseConfig
from keras_curriculum.errors import ConfigError
from keras_curriculum.training import rundir

BACKBONE_LAYER = "backbone"
PHASE_KEY = "phase"  # run.json: the 1-based phase of the last finished epoch


def backbone_of(model: keras.Model) -> keras.Model:
    """The model's nested layer named ``backbone``."""
    try:
        return model.get_layer(BACKBONE_LAYER)
    except ValueError:
        raise ConfigError(
            "training.phases",
            f"the model has no layer named '{BACKBONE_LAYER}' (build it with a model.backbone,"
            " e.g. the transfer model)",
        ) from None


def set_trainable(model: keras.Model, phase: PhaseConfig) -> None:
    """Freezes or unfreezes the backbone (or its top N layers with weights, BatchNorm layers
    not counted) for ``phase``; the backbone's BatchNorm layers stay frozen."""
    backbone = backbone_of(model)
    backbone.trainable = phase.backbone != "frozen"
    norms = [
        layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if isinstance(phase.backbone, int):
        weighted = [layer for layer in backbone.layers if layer.weights and layer not in norms]
        for index, layer in enumerate(weighted):
            layer.trainable = index >= len(weighted) - phase.backbone
    for layer in norms:
        layer.trainable = False


def boundaries(phases: list[PhaseConfig]) -> list[tuple[int, int]]:
    """Each phase's (first epoch, end epoch) in the run's epoch numbering."""
    out, start = [], 0
    for phase in phases:
        out.append((start, start + phase.epochs))
        start += phase.epochs
    return out


def _compile(setup: Any, phase: PhaseConfig) -> None:
    model, training = setup.model, setup.config.training
    optimizer = training.optimizer.model_copy(
        update={"learning_rate": phase.learning_rate or training.optimizer.learning_rate}
    )
    compiled = model.get_compile_config()
    with setup.strategy.scope():
        compiled["optimizer"] = keras.optimizers.serialize(
            objectives.build_optimizer(
                optimizer, steps_per_epoch=setup.steps_per_epoch, epochs=phase.epochs
            )
        )
        model.compile_from_config(compiled)


class _RecordPhase(keras.callbacks.Callback):
    def __init__(self, run_dir: Path, phase: int):
        super().__init__()
        self.run_dir, self.phase = run_dir, phase

    def on_epoch_end(self, epoch, logs=None):
        rundir.mark(self.run_dir, **{PHASE_KEY: self.phase})


def build_state(setup: Any, dataset: Any) -> None:
    """Creates the optimizer's, loss's and metrics' variables before ``fit`` traces its step.

    Without a tf.distribute strategy Keras defers them to the first trace of the train
    function, and a ``tf.function`` whose first trace creates variables is traced a second
    time: every run paid its train step's tracing twice (a second or more per run). Under a
    strategy Keras builds them beforehand from a symbolic batch; this does the same from the
    dataset's element spec, which has the shapes and dtypes and reads no data (so the
    shuffle order a resume replays is untouched). A model with its own ``train_step`` builds
    what that step needs itself (in its ``compile``, say).
    """
    model = setup.model
    if model.built and type(model).train_step is keras.Model.train_step:
        with setup.strategy.scope():
            model._symbolic_build(data_batch=dataset.element_spec)


def fit(setup: Any, run_dir: Path, *args: Any, **kwargs: Any) -> keras.callbacks.History:
    """``model.fit(*args, **kwargs)`` (after :func:`build_state`), phase by phase when the
    config has ``training.phases``.
    ``setup`` is the trainer's Setup (not imported: the trainer imports this module).

    Returns the last phase's History with the history of every phase run here in it."""
    model, phases = setup.model, setup.config.training.phases
    if not phases:
        build_state(setup, args[0])
        return model.fit(*args, **kwargs)
    first = 0
    record = (
        rundir.read_json(run_dir / rundir.RUN_FILE) if (run_dir / rundir.RUN_FILE).exists() else {}
    )
    if record.get(PHASE_KEY):  # a resumed run goes on in the phase it was in
        first = int(record[PHASE_KEY]) - 1
    callbacks = list(kwargs.pop("callbacks", None) or [])
    history: dict[str, list] = {}
    fitted = None
    for index, ((start, end), phase) in enumerate(zip(boundaries(phases), phases, strict=True)):
        if index < first:
            continue
        set_trainable(model, phase)
        _compile(setup, phase)
        # A restored backup sets where fit starts; Keras keeps that value on the model, and
        # it must not carry over into the next phase.
        model._initial_epoch = None
        build_state(setup, args[0])
        fitted = model.fit(
            *args,
            **{**kwargs, "epochs": end, "initial_epoch": start},
            callbacks=[*callbacks, _RecordPhase(run_dir, index + 1)],
        )
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(values)
    fitted.history = history
    return fitted
