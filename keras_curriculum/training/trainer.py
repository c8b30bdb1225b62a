"""The shared trainer: config → data + model → fit → evaluate → run directory.

One function, :func:`train`, used by the ``train`` command, the notebooks and the tests. It
knows nothing about particular models: a model that needs something special (its own loss,
a sampling step) carries it itself, the Keras way.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_curriculum import datasets, models, objectives, reports
from keras_curriculum.config import ExperimentConfig, to_yaml
from keras_curriculum.errors import CurriculumError
from keras_curriculum.reports import plots
from keras_curriculum.training import phases, rundir, runtime
from keras_curriculum.training.checks import load_config


@dataclass
class RunResult:
    """What a run produced: its directory, full history, metrics and the trained model."""

    run_dir: Path | None
    config: ExperimentConfig
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    model: keras.Model
    data: datasets.Data = field(repr=False)

    @property
    def test(self) -> dict[str, float]:
        return self.metrics.get("test", {})

    def summary_line(self) -> str:
        figures = " ".join(
            f"{k} {v:.4f}" for k, v in self.test.items() if isinstance(v, int | float)
        )
        return f"run {self.run_dir}: test {figures}"


@dataclass
class Setup:
    """Everything built before training starts (so bad input fails before any file is written)."""

    config: ExperimentConfig
    data: datasets.Data
    model: keras.Model
    strategy: Any
    policy: str
    steps_per_epoch: int  # 1 when neither the schedule nor the data needs the count


def load_data(config: ExperimentConfig, *, replicas: int = 1) -> datasets.Data:
    """The config's dataset as batched pipelines (the global batch is per-replica × replicas)."""
    data = config.data
    return datasets.load(
        data.name,
        batch_size=data.batch_size * replicas,
        validation_split=data.validation_split,
        test_split=data.test_split,
        targets=data.targets,
        seed=config.seed,
        shuffle_buffer=data.shuffle_buffer,
        model_arguments=config.model.arguments,  # options the examples take from the model
        **data.options,
    )


def endless(data: datasets.Data) -> bool:
    """Whether the training split is an endless stream (its source gives the epoch size)."""
    return data.train.cardinality() == tf.data.INFINITE_CARDINALITY


def epoch_steps(config: ExperimentConfig, data: datasets.Data) -> int:
    """Steps in one epoch, for epoch-based schedules and for endless streams (else 1).

    Counting a finite stream of unknown length costs a full pass over it, so it is done only
    for a schedule that needs it. An endless stream's epoch is rounded up to whole executions
    of ``steps_per_execution`` steps, which is what Keras runs.
    """
    training = config.training
    if endless(data):
        steps = math.ceil(data.info.num_examples["train"] / data.batch_size)
        return math.ceil(steps / training.steps_per_execution) * training.steps_per_execution
    if training.optimizer.schedule.name == "constant":
        return 1
    return objectives.steps_per_epoch(
        data.info.num_examples.get("train"), data.batch_size, data.train
    )


def prepare(config: ExperimentConfig) -> Setup:
    """Seeds, sets the precision policy and strategy, loads the data and builds + compiles the
    model. Writes nothing."""
    training = config.training
    runtime.seed_everything(config.seed, deterministic=training.deterministic)
    policy = runtime.set_precision(training.mixed_precision)
    strategy = runtime.build_strategy(training.distribution)
    data = load_data(config, replicas=strategy.num_replicas_in_sync)
    metadata = data.info.metadata()
    steps = epoch_steps(config, data)
    with strategy.scope():
        model = models.build(config.model.name, metadata=metadata, **config.model.arguments)
        model.compile(
            optimizer=objectives.build_optimizer(
                training.optimizer, steps_per_epoch=steps, epochs=training.epochs
            ),
            loss=objectives.build_loss(training.loss, metadata),
            metrics=objectives.build_metrics(training.metrics, metadata),
            jit_compile=training.jit_compile,
            steps_per_execution=training.steps_per_execution,
        )
    return Setup(config, data, model, strategy, policy, steps)


def build_callbacks(
    config: ExperimentConfig, run_dir: Path, has_validation: bool
) -> list[keras.callbacks.Callback]:
    options = config.training.callbacks
    monitor_default = "val_loss" if has_validation else "loss"
    callbacks: list[keras.callbacks.Callback] = []
    if options.terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())
    if options.early_stopping is not None:
        es = options.early_stopping
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=es.monitor if has_validation else es.monitor.removeprefix("val_"),
                patience=es.patience,
                min_delta=es.min_delta,
                restore_best_weights=es.restore_best_weights,
            )
        )
    if options.reduce_lr_on_plateau is not None:
        rl = options.reduce_lr_on_plateau
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=rl.monitor if has_validation else rl.monitor.removeprefix("val_"),
                factor=rl.factor,
                patience=rl.patience,
                min_lr=rl.min_lr,
            )
        )
    if options.model_checkpoint:
        (run_dir / "checkpoints").mkdir(exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                run_dir / "checkpoints" / "best.keras", monitor=monitor_default, save_best_only=True
            )
        )
    if options.tensorboard is not None:
        tb = options.tensorboard
        callbacks.append(
            keras.callbacks.TensorBoard(
                log_dir=str(run_dir / "tensorboard"),
                histogram_freq=tb.histogram_freq,
                update_freq=tb.update_freq,
                profile_batch=tb.profile_batch,
            )
        )
    # The history row is written before the backup, so after a kill the CSV never lacks an
    # epoch the backup has; extra rows are trimmed on resume.
    callbacks.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True))
    if options.backup_and_restore:
        # double_checkpoint keeps the previous backup, which Keras falls back to when a kill
        # interrupted the last one mid-write (a truncated weights file).
        callbacks.append(
            keras.callbacks.BackupAndRestore(str(run_dir / "backup"), double_checkpoint=True)
        )
    return callbacks


def train(
    config: ExperimentConfig | str | Path,
    *,
    output_dir: str | Path | None = None,
    resume: str | Path | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> RunResult:
    """Trains the experiment ``config`` (a config object or a YAML path) and writes its run
    directory. ``resume`` continues an interrupted run in its own directory from its last
    backed-up epoch. Extra Keras ``callbacks`` are added to the config's."""
    if resume is not None:
        run_dir = rundir.check_run(Path(resume))
        if rundir.read_json(run_dir / rundir.RUN_FILE).get("status") == "completed":
            raise CurriculumError(f"{run_dir} has already completed: there is nothing to resume")
        config = (
            load_config(run_dir / "config.yaml")
            if not isinstance(config, ExperimentConfig)
            else config
        )
    elif not isinstance(config, ExperimentConfig):
        config = load_config(config)
    parent = Path(output_dir if output_dir is not None else config.output_dir)
    if resume is None:
        rundir.check_writable(parent / config.name)

    setup = prepare(config)
    chief = runtime.is_chief(setup.strategy)
    if resume is not None:
        _trim_history_to_backup(run_dir)
    elif chief:
        run_dir = rundir.create(parent, config.name)
    else:  # a non-chief worker trains in a scratch directory that is removed afterwards
        run_dir = Path(tempfile.mkdtemp(prefix="keras-curriculum-worker-"))

    try:
        return _fit_and_record(
            setup, run_dir, resumed=resume is not None, extra_callbacks=callbacks or []
        )
    finally:
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)


def _trim_history_to_backup(run_dir: Path) -> None:
    metadata = run_dir / "backup" / "training_metadata.json"
    epochs = rundir.read_json(metadata).get("epoch", 0) if metadata.exists() else 0
    rundir.truncate_history(run_dir / "history.csv", epochs)


def _fit_and_record(
    setup: Setup, run_dir: Path, *, resumed: bool, extra_callbacks: list
) -> RunResult:
    config, data, model = setup.config, setup.data, setup.model
    (run_dir / "config.yaml").write_text(to_yaml(config))
    if not resumed:
        rundir.write_json(run_dir / rundir.RUN_FILE, rundir.start_record())
    rundir.mark(
        run_dir,
        status="running",
        precision=setup.policy,
        replicas=setup.strategy.num_replicas_in_sync,
    )

    started = time.perf_counter()
    with warnings.catch_warnings():
        # A finite stream of unknown length (a filtered one, say) ends each epoch by running
        # out of data, by design; Keras warns about it as if steps had been lost.
        warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
        phases.fit(
            setup,
            run_dir,
            data.train,
            validation_data=data.validation,
            epochs=config.training.epochs,
            # An endless stream runs on across epochs: its pipeline never restarts.
            steps_per_epoch=setup.steps_per_epoch if endless(data) else None,
            callbacks=[
                *build_callbacks(config, run_dir, data.validation is not None),
                *reports.epoch_callbacks(model, data, run_dir),
                *extra_callbacks,
            ],
            verbose=config.training.verbose,
            shuffle=False,  # the training pipeline shuffles itself, seeded
        )
    train_seconds = time.perf_counter() - started

    history = rundir.read_history(run_dir / "history.csv")
    metrics: dict[str, Any] = {}
    if data.test is not None:
        metrics["test"] = {
            k: float(v) for k, v in model.evaluate(data.test, return_dict=True, verbose=0).items()
        }
        if config.training.tta:
            from keras_curriculum.evaluation import tta as test_time_augmentation

            metrics["test_tta"] = test_time_augmentation.evaluate(
                model, data.test, config.training.tta
            )
    metrics.update(reports.run_reports(model, data, run_dir))
    metrics["epochs"] = len(next(iter(history.values()), []))
    metrics["parameters"] = {
        "total": model.count_params(),
        "trainable": int(sum(keras.ops.size(w) for w in model.trainable_weights)),
    }
    metrics["train_seconds"] = round(train_seconds, 2)

    model.save(run_dir / "model.keras")
    rundir.write_json(run_dir / "metrics.json", metrics)
    if history:
        plots.learning_curves(history, run_dir / "plots" / "learning_curves.png")
    rundir.mark(run_dir, status="completed", finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
    return RunResult(run_dir, config, history, metrics, model, data)


def evaluate(run_dir: str | Path, *, tta: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Re-evaluates a finished run's ``model.keras`` on its config's test split; with ``tta``
    (transform names, see ``evaluation/tta.py``) on predictions averaged over those copies."""
    run_dir = rundir.check_run(Path(run_dir))
    if not (run_dir / "model.keras").exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    config = load_config(run_dir / "config.yaml")
    setup_data = load_data(config)
    if setup_data.test is None:
        raise CurriculumError(f"{run_dir}: the dataset '{config.data.name}' has no test split")
    model = models.load(run_dir / "model.keras")
    if tta:
        from keras_curriculum.evaluation import tta as test_time_augmentation

        return test_time_augmentation.evaluate(model, setup_data.test, tta)
    return {
        k: float(v) for k, v in model.evaluate(setup_data.test, return_dict=True, verbose=0).items()
    }
