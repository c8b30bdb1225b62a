"""The shared trainer: config → data + model → fit → evaluate → run directory.

One function, :func:`train`, used by the ``train`` command, the notebooks and the tests. It
knows nothing about particular models: a model that needs something special (its own loss,
a sampling step) carries it itself, the Keras way.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_curriculum import datasets, models, objectives, reports
from keras_curriculum.config import ExperimentConfig, to_yaml
from keras_curriculum.errors import ConfigError, CurriculumError, DivergedError, Terminated
from keras_curriculum.reports import plots
from keras_curriculum.training import backup, phases, rundir, runtime
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
        model = build_model(config, metadata)
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


def build_model(config: ExperimentConfig, metadata: dict[str, Any]) -> keras.Model:
    """The config's model. A factory or Keras layer that rejects an argument's value (a
    negative width, an unknown activation) raises ValueError or TypeError: that is bad
    input, reported as a ConfigError naming the ``model.<field>`` whose value it quotes."""
    arguments = config.model.arguments
    try:
        return models.build(config.model.name, metadata=metadata, **arguments)
    except (ValueError, TypeError) as error:
        raise ConfigError(*_blame_argument(arguments, error)) from error


def _blame_argument(arguments: dict[str, Any], error: Exception) -> tuple[str, str]:
    text = " ".join(str(error).split())
    message = text if len(text) <= 200 else text[:197] + "..."
    for key, value in arguments.items():
        values = value if isinstance(value, list | tuple) else [value]
        if any(_quotes(text, v) for v in values):
            return f"model.{key}", f"{message} (got {value!r})"
    given = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    return "model", f"{message} (arguments: {given or 'none'})"


def _quotes(text: str, value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    pattern = rf"(?<![\w.-]){re.escape(str(value))}(?![\w.])"
    return re.search(pattern, text) is not None


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback without its per-batch cost when it writes once an epoch.

    With ``update_freq="epoch"`` and no profiling, Keras still calls ``tf.summary.scalar``
    for every metric after every batch, with no writer there to record them: about 0.5 ms a
    batch on this project's CPU, several per cent of a small model's step. Only the first
    batch's call does any work (it writes the model's graph), so later batches skip it; with
    per-batch updates or profiling every batch goes to Keras as before.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._every_batch = self.update_freq != "epoch" or kwargs.get("profile_batch", 0) != 0
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        if self._every_batch or self._batches_done == 0:
            super().on_train_batch_end(batch, logs)
        self._batches_done += 1


def build_callbacks(
    config: ExperimentConfig,
    run_dir: Path,
    has_validation: bool,
    *,
    resume: bool,
    extra_state: Callable[[], dict[str, Any]],
) -> tuple[list[keras.callbacks.Callback], backup.RunBackup | None]:
    """The config's callbacks in the order their work must happen, and the run's backup.

    The backup's restorer comes first (it cuts history.csv back to the restored epochs
    before the logger opens it); the history row of an epoch is written before its backup,
    so history.csv never lacks an epoch a backup has; the backup comes last, after early
    stopping has restored its best weights at the end of training.
    """
    options = config.training.callbacks
    monitor_default = "val_loss" if has_validation else "loss"
    callbacks: list[keras.callbacks.Callback] = []
    if options.terminate_on_nan:
        callbacks.append(keras.callbacks.TerminateOnNaN())

    def monitoring(option) -> dict[str, Any]:
        """A callback section's fields as the Keras callback's keyword arguments (the config
        names them alike); without validation data ``val_loss`` becomes ``loss``."""
        fields = option.model_dump()
        if not has_validation:
            fields["monitor"] = fields["monitor"].removeprefix("val_")
        return fields

    if options.early_stopping is not None:
        callbacks.append(keras.callbacks.EarlyStopping(**monitoring(options.early_stopping)))
    if options.reduce_lr_on_plateau is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(**monitoring(options.reduce_lr_on_plateau))
        )
    if options.model_checkpoint:
        callbacks.append(
            backup.BestCheckpoint(run_dir / "checkpoints" / "best.weights.h5", monitor_default)
        )
    if options.tensorboard is not None:
        tb = options.tensorboard
        callbacks.append(
            EpochTensorBoard(
                log_dir=str(run_dir / "tensorboard"),
                histogram_freq=tb.histogram_freq,
                update_freq=tb.update_freq,
                profile_batch=tb.profile_batch,
            )
        )
    callbacks.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True))
    if not (options.backup_and_restore or resume):
        return callbacks, None
    # With backups off, a resume still restores what there is, and backs up nothing more.
    run_backup = backup.RunBackup(
        run_dir,
        resume=resume,
        save=options.backup_and_restore,
        extra_state=extra_state,
        peers=list(callbacks),
    )
    return [run_backup.restorer(), *callbacks, run_backup], run_backup


def train(
    config: ExperimentConfig | str | Path | None = None,
    *,
    output_dir: str | Path | None = None,
    resume: str | Path | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> RunResult:
    """Trains the experiment ``config`` (a config object or a YAML path) and writes its run
    directory. Extra Keras ``callbacks`` are added to the config's.

    ``resume`` continues an interrupted run in its own directory from its newest backup
    (``config``, if given, is the run's config with the changes a resume allows: more
    epochs, other callbacks, verbosity). A run whose epochs were all done goes straight to
    its evaluation and reports.
    """
    if resume is not None:
        run_dir = Path(resume)
        config = check_resume(run_dir, config)
        lock: rundir.RunLock | None = rundir.RunLock(run_dir)
        if lock.previous and rundir.read_json(run_dir / rundir.RUN_FILE).get("status") == "running":
            print(f"{run_dir}: taking over from {lock.previous}, which is no longer running")
    else:
        if not isinstance(config, ExperimentConfig):
            if config is None:
                raise CurriculumError("train needs a config (or resume=RUN_DIR)")
            config = load_config(config)
        parent = Path(output_dir if output_dir is not None else config.output_dir)
        rundir.check_writable(parent / config.name)
        lock = None

    try:
        setup = prepare(config)
        chief = runtime.is_chief(setup.strategy)
        if resume is not None:
            rundir.write_text(run_dir / rundir.CONFIG_FILE, to_yaml(config))
            rundir.mark(
                run_dir,
                status="running",
                reason=None,
                resumed=rundir.now(),
                pid=os.getpid(),
                host=socket.gethostname(),
            )
        elif chief:
            run_dir, lock = rundir.create(
                parent,
                config.name,
                {
                    rundir.RUN_FILE: json.dumps(rundir.start_record(), indent=2) + "\n",
                    rundir.CONFIG_FILE: to_yaml(config),
                },
            )
        else:  # a non-chief worker trains in a scratch directory that is removed afterwards
            run_dir = Path(tempfile.mkdtemp(prefix="keras-curriculum-worker-"))
    except BaseException:
        if lock is not None:
            lock.release()
        raise

    try:
        if not chief:
            return _fit_and_record(setup, run_dir, resumed=False, extra_callbacks=callbacks or [])
        return _recorded(
            run_dir,
            lambda: _fit_and_record(
                setup, run_dir, resumed=resume is not None, extra_callbacks=callbacks or []
            ),
        )
    finally:
        if lock is not None:
            lock.release()
        if not chief:
            shutil.rmtree(run_dir, ignore_errors=True)


def check_resume(run_dir: Path, config: ExperimentConfig | str | Path | None) -> ExperimentConfig:
    """The config to resume ``run_dir`` with, checked before anything is touched: the run
    exists, is not completed, diverged or in use, its files read, and ``config`` (when
    given) differs from the run's own only where a resume may."""
    rundir.check_run(run_dir)
    status = rundir.status(run_dir)
    if status == "completed":
        raise CurriculumError(f"{run_dir} has already completed: there is nothing to resume")
    if status == "diverged":
        raise CurriculumError(
            f"{run_dir} diverged (non-finite loss): start a new run with a lower learning rate"
        )
    stored = load_config(run_dir / rundir.CONFIG_FILE)
    if config is None:
        return stored
    if not isinstance(config, ExperimentConfig):
        config = load_config(config)
    done = (backup.latest_state(run_dir) or {}).get("epochs", 0)
    for path, old, new in _differences(stored.model_dump(), config.model_dump()):
        if path == "training.epochs":
            if new < old:
                raise CurriculumError(
                    f"--resume: training.epochs can only go up (the run has {old}, {done} done)"
                )
            if stored.training.optimizer.schedule.name in _EPOCH_SPANNING_SCHEDULES:
                raise CurriculumError(
                    "--resume: training.epochs cannot change under a"
                    f" {stored.training.optimizer.schedule.name} schedule, which spans the epochs"
                )
        elif not path.startswith(_RESUMABLE):
            raise CurriculumError(
                f"--resume cannot change {path} ({old!r} → {new!r}): only training.epochs"
                " (upward), training.callbacks and training.verbose; start a new run instead"
            )
    return config


# What a resume may change: nothing that shapes the model, data or optimisation so far.
_RESUMABLE = (
    "training.epochs",
    "training.callbacks",
    "training.verbose",
    "description",
    "output_dir",
)
_EPOCH_SPANNING_SCHEDULES = ("cosine", "linear")


def _differences(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            difference
            for key in dict.fromkeys([*old, *new])
            for difference in _differences(
                old.get(key), new.get(key), f"{path}.{key}" if path else str(key)
            )
        ]
    return [] if old == new else [(path, old, new)]


def _recorded(run_dir: Path, work: Callable[[], RunResult]) -> RunResult:
    """Runs ``work`` and records in run.json how it ended when it did not complete:
    ``interrupted`` (Ctrl-C, SIGTERM) or ``failed`` with a one-line reason."""
    try:
        return work()
    except DivergedError:
        raise  # recorded where it was found
    except KeyboardInterrupt as error:
        signal_name = "SIGTERM" if isinstance(error, Terminated) else "SIGINT (Ctrl-C)"
        _mark_quietly(run_dir, status="interrupted", reason=signal_name, finished=rundir.now())
        raise
    except BaseException as error:
        lines = str(error).strip().splitlines()
        reason = f"{error.__class__.__name__}: {lines[0] if lines else ''}"[:300]
        _mark_quietly(run_dir, status="failed", reason=reason, finished=rundir.now())
        raise


def _mark_quietly(run_dir: Path, **fields: Any) -> None:
    # The error being raised matters more than the record of it (a full disk, say).
    try:
        rundir.mark(run_dir, **fields)
    except (OSError, CurriculumError):
        pass


def _replay_shuffles(dataset, epochs: int) -> None:
    """Draws the shuffle seeds of ``epochs`` epochs, so that a resumed run's next epoch sees
    the order an uninterrupted run would: a seeded tf.data shuffle draws new seeds for each
    iterator, and Keras' epoch iterator makes two iterators an epoch over a split of known
    length (one to train on, one it makes ready at the epoch's end and then replaces).
    Making an iterator reads no data. Over a split of unknown length the orders differ."""
    if dataset.cardinality() < 0:
        return
    for _ in range(2 * epochs):
        iter(dataset)


def _fit_and_record(
    setup: Setup, run_dir: Path, *, resumed: bool, extra_callbacks: list
) -> RunResult:
    config, data, model = setup.config, setup.data, setup.model
    if not resumed:
        rundir.mark(run_dir, precision=setup.policy, replicas=setup.strategy.num_replicas_in_sync)

    started = time.perf_counter()
    restored: dict[str, Any] = {}

    def train_seconds() -> float:
        return round(restored.get("train_seconds", 0.0) + time.perf_counter() - started, 2)

    config_callbacks, run_backup = build_callbacks(
        config,
        run_dir,
        data.validation is not None,
        resume=resumed,
        extra_state=lambda: {"train_seconds": train_seconds()},
    )
    if run_backup is not None and resumed:
        extra_callbacks = [_OnRestored(run_backup, restored), *extra_callbacks]
        if not endless(data):  # an endless stream never restarts
            _replay_shuffles(data.train, (backup.latest_state(run_dir) or {}).get("epochs", 0))
    with warnings.catch_warnings():
        # A finite stream of unknown length (a filtered one, say) ends each epoch by running
        # out of data, by design; Keras warns about it as if steps had been lost.
        warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
        fitted = phases.fit(
            setup,
            run_dir,
            data.train,
            validation_data=data.validation,
            epochs=config.training.epochs,
            # An endless stream runs on across epochs: its pipeline never restarts.
            steps_per_epoch=setup.steps_per_epoch if endless(data) else None,
            callbacks=[
                *config_callbacks,
                *reports.epoch_callbacks(model, data, run_dir),
                *extra_callbacks,
            ],
            verbose=config.training.verbose,
            shuffle=False,  # the training pipeline shuffles itself, seeded
        )
    if run_backup is not None:
        restored.update(run_backup.restored_state)
    seconds = train_seconds()
    losses = fitted.history.get("loss", [])
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(float(v))), None)
    if run_backup is not None and bad is None:
        run_backup.finish()

    history = rundir.read_history(run_dir / "history.csv")
    epochs = len(next(iter(history.values()), []))
    first_epoch = epochs - len(losses)

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
    if bad is None:
        metrics.update(reports.run_reports(model, data, run_dir))
    metrics["epochs"] = epochs
    metrics["parameters"] = {
        "total": model.count_params(),
        "trainable": int(sum(keras.ops.size(w) for w in model.trainable_weights)),
    }
    metrics["train_seconds"] = seconds

    if bad is not None:
        epoch = first_epoch + bad + 1
        metrics["diverged_at_epoch"] = epoch
        rundir.write_json(run_dir / "metrics.json", metrics)
        reason = f"the loss became {float(losses[bad])} in epoch {epoch}"
        rundir.mark(run_dir, status="diverged", reason=reason, finished=rundir.now())
        raise DivergedError(
            f"run {run_dir} diverged: {reason}; lower training.optimizer.learning_rate"
            " (or clip gradients with training.optimizer.clipnorm) and start a new run"
        )

    with rundir.atomic_path(run_dir / "model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    rundir.write_json(run_dir / "metrics.json", metrics)
    if history:
        plots.learning_curves(history, run_dir / "plots" / "learning_curves.png")
    rundir.mark(
        run_dir, status="completed", finished=rundir.now(), train_seconds=seconds, reason=None
    )
    # Only a completed run gives its backup up: until then a resume needs it.
    shutil.rmtree(run_dir / backup.BACKUP_DIR, ignore_errors=True)
    return RunResult(run_dir, config, history, metrics, model, data)


class _OnRestored(keras.callbacks.Callback):
    """After the backup is restored (first thing in training), replays the data's shuffles
    of the epochs done and takes the training time recorded so far."""

    def __init__(self, run_backup: backup.RunBackup, restored: dict[str, Any]):
        super().__init__()
        self.run_backup, self.restored = run_backup, restored

    def on_train_begin(self, logs=None):
        self.restored.update(self.run_backup.restored_state)


def load_model(path: Path) -> keras.Model:
    """A saved ``.keras`` model. A truncated or damaged archive, or one Keras' safe mode
    refuses (it holds Python code), is a one-line CurriculumError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CurriculumError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found", which misleads
        raise CurriculumError(f"{path}: not a complete .keras archive (truncated or damaged)")
    try:
        return models.load(path)
    except (ValueError, TypeError, KeyError, OSError, EOFError, zipfile.BadZipFile) as error:
        text = " ".join(str(error).split())
        if "safe_mode" in text:
            raise CurriculumError(
                f"{path}: refused by Keras' safe mode (the file holds Python code such as a"
                " Lambda layer); load it yourself with safe_mode=False only if you trust it"
            ) from error
        raise CurriculumError(
            f"{path}: cannot load the model ({error.__class__.__name__}: {text[:200]})"
        ) from error


def evaluate(run_dir: str | Path, *, tta: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Re-evaluates a finished run's ``model.keras`` on its config's test split; with ``tta``
    (transform names, see ``evaluation/tta.py``) on predictions averaged over those copies."""
    run_dir = rundir.check_run(Path(run_dir))
    if not (run_dir / "model.keras").exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    config = load_config(run_dir / rundir.CONFIG_FILE)
    setup_data = load_data(config)
    if setup_data.test is None:
        raise CurriculumError(f"{run_dir}: the dataset '{config.data.name}' has no test split")
    model = load_model(run_dir / "model.keras")
    if tta:
        from keras_curriculum.evaluation import tta as test_time_augmentation

        return test_time_augmentation.evaluate(model, setup_data.test, tta)
    return {
        k: float(v) for k, v in model.evaluate(setup_data.test, return_dict=True, verbose=0).items()
    }
