"""What makes a run resumable: an atomic backup at the end of every epoch, and the best
checkpoint.

At the end of epoch *n*, :class:`RunBackup` writes ``backup/epoch-000n.weights.h5`` (the
model's weights and the optimizer's state: its step count and moments, which
``model.save_weights`` includes) and then ``backup/epoch-000n.json`` (the epoch, the training
time so far and the counters of early stopping and learning-rate reduction). Both are written
to a temporary file, flushed to disk and renamed, and the JSON is written last: a backup
exists once its JSON does. The previous backup is deleted only after that, so at every
instant one complete backup exists (from the first epoch's end on). When training ends, a
last backup marked ``final`` (written by :meth:`RunBackup.finish`) holds the weights
training ended with (after early stopping restored its best ones): a run killed while its reports are written resumes straight into
them, without training again. The backup stays until the run has completed.

On ``--resume``, :func:`restore` loads the newest backup whose files load and says which.

:class:`BestCheckpoint` keeps the best weights by the monitored value as
``checkpoints/best.weights.h5`` (weights only: an epoch costs one small write, not a whole
``.keras`` archive).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from keras_curriculum.training import rundir

BACKUP_DIR = "backup"
_NAME = re.compile(r"epoch-(\d{4,})(-final)?\.json")
# Counters of Keras' monitoring callbacks that fit() would otherwise reset on a resume.
_CALLBACK_STATE = ("wait", "best", "best_epoch", "cooldown_counter", "stopped_epoch")


@dataclass(frozen=True)
class Backup:
    """One backup on disk: ``epochs`` complete epochs, ``final`` when training had ended."""

    state_path: Path
    epochs: int
    final: bool

    @property
    def weights_path(self) -> Path:
        return self.state_path.with_suffix(".weights.h5")

    def state(self) -> dict[str, Any]:
        return rundir.read_json(self.state_path)


def backups(run_dir: Path) -> list[Backup]:
    """The run's backups, newest first."""
    folder = run_dir / BACKUP_DIR
    found = []
    for path in folder.glob("epoch-*.json") if folder.is_dir() else ():
        match = _NAME.fullmatch(path.name)
        if match:
            found.append(Backup(path, int(match.group(1)), bool(match.group(2))))
    return sorted(found, key=lambda b: (b.epochs, b.final), reverse=True)


def latest_state(run_dir: Path) -> dict[str, Any] | None:
    """The newest readable backup's state (without loading weights), or None."""
    for backup in backups(run_dir):
        try:
            return {**backup.state(), "epochs": backup.epochs, "final": backup.final}
        except rundir.CurriculumError:
            continue
    return None


class RunBackup(keras.callbacks.Callback):
    """Backs the run up at every epoch's end (and once more when training ends); with
    ``resume``, restores the newest backup that loads when training begins.

    ``extra_state()`` adds to each backup's JSON (the trainer's cumulative training time);
    ``peers`` are the other callbacks, whose monitoring counters are kept and restored.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        resume: bool,
        save: bool = True,
        extra_state: Callable[[], dict[str, Any]] = dict,
        peers: list[keras.callbacks.Callback] = (),
        report: Callable[[str], None] = print,
    ):
        super().__init__()
        self.folder = run_dir / BACKUP_DIR
        self.resume, self.save = resume, save
        self.extra_state = extra_state
        self.peers = list(peers)
        self.report = report
        self.restored: Backup | None = None
        self.restored_state: dict[str, Any] = {}
        self.epochs_done = 0
        self._restore_done = False

    # -- restoring

    def restorer(self) -> keras.callbacks.Callback:
        """The callback that restores the backup: it goes first in the list, before the
        history logger opens history.csv (which is cut back to the restored epochs)."""
        return _Restorer(self)

    def _restore(self) -> None:
        self.folder.mkdir(exist_ok=True)
        for leftover in self.folder.glob(".*"):  # temporary files of an interrupted write
            leftover.unlink(missing_ok=True)
        if not self.resume or self._restore_done:
            return  # restored once, by the first of several fits (training in phases)
        self._restore_done = True
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)  # its slots must exist to load
        for backup in backups(self.folder.parent):
            try:
                state = backup.state()
                model.load_weights(backup.weights_path)
            except Exception as error:  # a damaged copy: say so and try the one before
                self.report(f"skipping backup {backup.weights_path.name}: {_one_line(error)}")
                continue
            self.restored, self.restored_state = backup, state
            self.epochs_done = backup.epochs
            # fit() starts its epoch loop here (what Keras' own BackupAndRestore sets); a run
            # whose training had ended trains no further.
            model._initial_epoch = (
                self.params.get("epochs", backup.epochs) if backup.final else backup.epochs
            )
            break
        rundir.truncate_history(self.folder.parent / "history.csv", self.epochs_done)
        self.report(describe_restored(self.restored))

    def on_train_begin(self, logs=None):
        # After the peers' own on_train_begin, which resets their counters.
        for peer, saved in zip(self.peers, self.restored_state.get("callbacks", []), strict=False):
            for key, value in (saved or {}).items():
                if value is not None:
                    setattr(peer, key, value)

    # -- backing up

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        if self.save and _finite(logs):  # a diverged epoch never replaces the last good backup
            self._save(epoch + 1, final=False)

    def finish(self) -> None:
        """The final backup, once training has ended for good (the trainer calls it after
        fit, which may be several fits, one per phase)."""
        if self.restored is not None and self.restored.final:
            return  # nothing was trained: the final backup is already there
        if self.save and self.epochs_done:
            self._save(self.epochs_done, final=True)

    def _save(self, epochs: int, *, final: bool) -> None:
        stem = f"epoch-{epochs:04d}{'-final' if final else ''}"
        weights = self.folder / f"{stem}.weights.h5"
        with rundir.atomic_path(weights, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        state = {
            "epochs": epochs,
            "final": final,
            **self.extra_state(),
            "callbacks": [_counters(peer) for peer in self.peers],
        }
        rundir.write_json(self.folder / f"{stem}.json", state)
        # Only now that this backup is complete do the older ones go.
        for older in backups(self.folder.parent):
            if older.state_path.name != f"{stem}.json":
                older.state_path.unlink(missing_ok=True)
                older.weights_path.unlink(missing_ok=True)


class BestCheckpoint(keras.callbacks.Callback):
    """Writes the weights of the epoch with the lowest ``monitor`` (a loss) so far to
    ``path`` (atomically). With ``resume``, the best value so far comes from ``best``."""

    def __init__(self, path: Path, monitor: str, best: float | None = None):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.best = math.inf if best is None else best

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None or not math.isfinite(float(current)) or float(current) >= self.best:
            return
        self.best = float(current)
        self.path.parent.mkdir(exist_ok=True)
        with rundir.atomic_path(self.path, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)


def _counters(callback: keras.callbacks.Callback) -> dict[str, Any]:
    values = {}
    for key in _CALLBACK_STATE:
        value = getattr(callback, key, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = value
        elif hasattr(value, "item"):  # a NumPy scalar
            values[key] = value.item()
    return values


def _finite(logs: dict[str, Any] | None) -> bool:
    loss = (logs or {}).get("loss")
    return loss is None or math.isfinite(float(loss))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{error.__class__.__name__}: {text[0] if text else ''}"[:200]


def describe_restored(backup: Backup | None) -> str:
    if backup is None:
        return "no backup to resume from: training starts at epoch 1"
    kind = "the final backup (training had ended)" if backup.final else "the backup"
    return (
        f"resuming from {kind} of epoch {backup.epochs} ({BACKUP_DIR}/{backup.weights_path.name})"
    )


class _Restorer(keras.callbacks.Callback):
    def __init__(self, backup: RunBackup):
        super().__init__()
        self.backup = backup

    def on_train_begin(self, logs=None):
        self.backup._restore()
