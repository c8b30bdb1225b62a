"""Training: the config schema, the shared trainer, run directories and the CLI.

Imported lazily, so the command line can start (and report a bad config) before TensorFlow
loads.
"""

import importlib

_EXPORTS = {
    "ExperimentConfig": "config",
    "load_config": "config",
    "RunResult": "trainer",
    "evaluate": "trainer",
    "prepare": "trainer",
    "train": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
