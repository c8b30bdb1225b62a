"""Run directories: ``OUTPUT_DIR/<name>/<timestamp>/``, one per run, never overwritten.

A run directory holds ``run.json`` (status, times, versions), ``config.yaml`` (the resolved
config), ``history.csv``, ``metrics.json``, ``model.keras``, ``backup/`` (what ``--resume``
continues from), ``checkpoints/``, ``tensorboard/`` and ``plots/``. ``run.json`` is what
makes a folder a run (``--resume`` checks it).

Every file is written atomically (a temporary file in the same folder, flushed to disk, then
renamed over the old one), so a kill at any instant leaves either the old or the new file,
never half of one. A run directory appears with its ``run.json`` and ``config.yaml`` already
in it (it is made under a temporary name and renamed), and a process that writes into a run
holds its lock file (``fcntl.flock``), which the kernel releases when the process dies.

``run.json``'s ``status`` is ``running``, ``completed``, ``interrupted`` (Ctrl-C, SIGTERM),
``failed`` (with a one-line ``reason``) or ``diverged`` (a non-finite loss); a ``running``
run whose lock nobody holds was killed, and :func:`status` reports it as ``interrupted``.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import json
import math
import os
import platform
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from keras_curriculum.errors import CurriculumError

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"
LOCK_FILE = ".lock"
STATUSES = ("running", "completed", "interrupted", "failed", "diverged")


def check_writable(directory: Path) -> None:
    """Fails early (before anything is created) when ``directory`` cannot be written."""
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise CurriculumError(f"output directory {directory}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CurriculumError(f"output directory {directory} is not writable")


# ---------------------------------------------------------------------------------------------
# Atomic files


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path in ``path``'s folder that replaces ``path`` once the block succeeds
    (after an fsync); on an error it is removed and ``path`` is untouched. ``suffix`` ends
    the temporary name (Keras insists on ``.weights.h5``)."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk.
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Strict JSON (non-finite floats become ``null``: NaN is not JSON), written atomically."""
    write_text(path, json.dumps(finite(data), indent=2, allow_nan=False) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; a missing, unreadable or malformed file is a one-line
    CurriculumError naming it."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CurriculumError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CurriculumError(f"{path}: cannot read file ({error.__class__.__name__})") from None
    except json.JSONDecodeError as error:
        raise CurriculumError(
            f"{path}: not valid JSON (line {error.lineno}: {error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise CurriculumError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def finite(value: Any) -> Any:
    """``value`` as plain JSON data: NumPy scalars and arrays as Python values, NaN and ±inf
    as ``None``."""
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars, tensors
        return finite(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------
# Locking


class RunLock:
    """An exclusive ``flock`` on ``RUN_DIR/.lock``, which holds the owner's pid and host. The
    kernel drops it when the process dies, so a stale lock file is simply taken over;
    :attr:`previous` is what the file said then (``"pid 123 on host"``) or None."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_FILE
        try:
            self._handle: IO[str] | None = open(self.path, "a+")  # noqa: SIM115 (held open)
        except OSError as error:
            raise CurriculumError(f"{self.path}: cannot lock the run ({error.strerror})") from None
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _lock_owner(self.path)
            self._handle.close()
            raise CurriculumError(
                f"{run_dir} is in use by {owner or 'another process'}: one process at a time"
            ) from None
        self.previous = _lock_owner(self.path)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the flock
            self._handle = None


def _lock_owner(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def is_locked(run_dir: Path) -> bool:
    """Whether some live process holds ``run_dir``'s lock (this one included)."""
    path = run_dir / LOCK_FILE
    if not path.exists():
        return False
    try:
        with open(path) as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


# ---------------------------------------------------------------------------------------------
# Creating, checking and marking runs


def create(output_dir: Path, name: str, files: dict[str, str]) -> tuple[Path, RunLock]:
    """Creates a fresh locked ``output_dir/name/<timestamp>[-N]`` holding ``files``
    (file name → text; ``run.json`` among them) and returns it with its lock.

    The folder is filled under a hidden temporary name and then renamed, so no run directory
    ever exists without its ``run.json``.
    """
    parent = output_dir / name
    check_writable(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=".new-"))
    except OSError as error:
        raise CurriculumError(
            f"output directory {parent} cannot be created: {error.strerror}"
        ) from None
    lock = RunLock(staging)
    try:
        for file_name, text in files.items():
            write_text(staging / file_name, text)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            run_dir = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            try:
                run_dir.mkdir()  # claims the name; the rename below replaces the empty folder
            except FileExistsError:
                continue
            os.replace(staging, run_dir)
            lock.path = run_dir / LOCK_FILE
            return run_dir, lock
    except BaseException:
        lock.release()
        _remove_tree(staging)
        raise
    lock.release()
    _remove_tree(staging)
    raise CurriculumError(f"could not create a run directory under {parent}")


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def check_run(run_dir: Path) -> Path:
    if not run_dir.is_dir():
        raise CurriculumError(f"{run_dir} is not a directory")
    if not (run_dir / RUN_FILE).exists() or not (run_dir / CONFIG_FILE).exists():
        raise CurriculumError(f"{run_dir} is not a run directory (no {RUN_FILE} and {CONFIG_FILE})")
    return run_dir


def mark(run_dir: Path, **fields: Any) -> None:
    path = run_dir / RUN_FILE
    data = read_json(path) if path.exists() else {}
    data.update(fields)
    write_json(path, data)


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def start_record() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    return {
        "status": "running",
        "started": now(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
        },
    }


def status(run_dir: Path) -> str:
    """The run's status as recorded, except that a ``running`` run nobody holds the lock of
    was killed: ``interrupted``."""
    recorded = read_json(run_dir / RUN_FILE).get("status", "unknown")
    if recorded == "running" and not is_locked(run_dir):
        return "interrupted"
    return str(recorded)


def describe(run_dir: Path) -> dict[str, Any]:
    """What ``keras-curriculum runs`` shows of one run: status, epochs done and test figures."""
    try:
        state = status(run_dir)
        record = read_json(run_dir / RUN_FILE)
    except CurriculumError as error:
        return {
            "run_dir": run_dir,
            "status": "unreadable",
            "epochs": None,
            "test": {},
            "reason": str(error),
        }
    metrics: dict[str, Any] = {}
    if (run_dir / "metrics.json").exists():
        try:
            metrics = read_json(run_dir / "metrics.json")
        except CurriculumError:
            metrics = {}
    epochs = metrics.get("epochs", history_rows(run_dir / "history.csv"))
    test = metrics.get("test") if isinstance(metrics.get("test"), dict) else {}
    return {
        "run_dir": run_dir,
        "status": state,
        "epochs": epochs,
        "test": test,
        "reason": record.get("reason", ""),
    }


def find_runs(root: Path) -> list[Path]:
    """Run directories at or below ``root`` (``root`` itself, ``root/<stamp>`` or
    ``root/<name>/<stamp>``), oldest first within each name."""
    if (root / RUN_FILE).is_file():
        return [root]
    found = [p.parent for p in (*root.glob(f"*/{RUN_FILE}"), *root.glob(f"*/*/{RUN_FILE}"))]
    return sorted(p for p in found if not p.name.startswith("."))


# ---------------------------------------------------------------------------------------------
# history.csv


def read_history(path: Path) -> dict[str, list[float]]:
    """history.csv (written by Keras' CSVLogger) as ``{column: [value per epoch]}``."""
    if not path.exists():
        return {}
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in (rows[0].keys() if rows else []) if c and c != "epoch"]
    # CSVLogger writes "NA" in val_* columns when a run has no validation split.
    history = {
        c: [float(row[c]) for row in rows if row.get(c) not in (None, "", "NA")] for c in columns
    }
    return {c: values for c, values in history.items() if values}


def history_rows(path: Path) -> int:
    """Complete rows (epochs) in history.csv."""
    if not path.exists():
        return 0
    lines = path.read_text().splitlines(keepends=True)
    return sum(1 for line in lines[1:] if line.endswith("\n"))


def truncate_history(path: Path, epochs: int) -> None:
    """Keeps the first ``epochs`` rows of history.csv (the epochs a backup has restored); a
    row cut short by a kill goes too."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines[: epochs + 1] if line.endswith("\n")]
    if epochs == 0 or not kept:
        path.unlink()  # CSVLogger writes the header again with the first row
    elif len(kept) != len(lines):
        write_text(path, "".join(kept))
