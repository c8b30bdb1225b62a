"""Run directories: ``OUTPUT_DIR/<name>/<timestamp>/``, one per run, never overwritten.

A run directory holds ``run.json`` (status, times, versions), ``config.yaml`` (the resolved
config), ``history.csv``, ``metrics.json``, ``model.keras``, ``checkpoints/``, ``tensorboard/``
and ``plots/``. ``run.json`` is what makes a folder a run (``--resume`` checks it).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

from keras_curriculum.errors import CurriculumError

RUN_FILE = "run.json"


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


def create(output_dir: Path, name: str) -> Path:
    """Creates a fresh ``output_dir/name/<timestamp>[-N]`` and returns it."""
    parent = output_dir / name
    check_writable(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CurriculumError(
            f"output directory {parent} cannot be created: {error.strerror}"
        ) from None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        run_dir = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
    raise CurriculumError(f"could not create a run directory under {parent}")


def check_run(run_dir: Path) -> Path:
    if not run_dir.is_dir():
        raise CurriculumError(f"{run_dir} is not a directory")
    if not (run_dir / RUN_FILE).exists() or not (run_dir / "config.yaml").exists():
        raise CurriculumError(f"{run_dir} is not a run directory (no {RUN_FILE} and config.yaml)")
    return run_dir


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(data, indent=2, default=_plain) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def mark(run_dir: Path, **fields: Any) -> None:
    path = run_dir / RUN_FILE
    data = read_json(path) if path.exists() else {}
    data.update(fields)
    write_json(path, data)


def start_record() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    return {
        "status": "running",
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
        },
    }


def read_history(path: Path) -> dict[str, list[float]]:
    """history.csv (written by Keras' CSVLogger) as ``{column: [value per epoch]}``."""
    if not path.exists():
        return {}
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in (rows[0].keys() if rows else []) if c != "epoch"]
    # CSVLogger writes "NA" in val_* columns when a run has no validation split.
    history = {
        c: [float(row[c]) for row in rows if row.get(c) not in (None, "", "NA")] for c in columns
    }
    return {c: values for c, values in history.items() if values}


def truncate_history(path: Path, epochs: int) -> None:
    """Keeps the first ``epochs`` rows of history.csv (the epochs a backup has restored)."""
    if not path.exists():
        return
    with path.open() as handle:
        lines = handle.readlines()
    path.write_text("".join(lines[: epochs + 1]))
