"""Shared fixtures. Tests run offline: data comes from scikit-learn, Debian's
dataset-fashion-mnist, or the cache that `make data` (keras-curriculum data prepare --all) fills."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with the float32 policy and a clear Keras session."""
    import keras

    yield
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session(free_memory=False)  # a full gc.collect() costs ~1 s per test


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


def run_cli(
    *args: str, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Runs a console script of this package (``train``, ``keras-curriculum``) in a subprocess."""
    command = [str(BIN / args[0]), *args[1:]]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def load_yaml_config(name: str, *overrides: str):
    from keras_curriculum.training import load_config

    return load_config(CONFIGS / name, list(overrides))
