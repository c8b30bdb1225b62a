"""What the trainer adds to ``metrics.json`` and ``plots/`` after the test evaluation.

Reports are chosen by the data's task (``classification``, ``segmentation``,
``reconstruction``, …), never by model name. A model that knows more about itself than its
task does (a VAE's importance-sampled likelihood, say) may define a method
``curriculum_report(data, run_dir) -> dict``; its result is merged in as well.

A report is ``function(model, data, run_dir) -> dict`` registered with :func:`register_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

_reports: dict[str, list[Callable[..., dict[str, Any]]]] = {}


def register_report(task: str):
    def decorator(function):
        _reports.setdefault(task, []).append(function)
        return function

    return decorator


def run_reports(model, data, run_dir: Path) -> dict[str, Any]:
    _import_builtin_reports()
    results: dict[str, Any] = {}
    if data.test is None:
        return results
    for report in _reports.get(data.info.task, []):
        results.update(report(model, data, run_dir) or {})
    own = getattr(model, "curriculum_report", None)
    if callable(own):
        results.update(own(data, run_dir) or {})
    return results


def _import_builtin_reports() -> None:
    import importlib
    import pkgutil

    import keras_curriculum.training as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_report") or info.name.endswith("_reports"):
            importlib.import_module(f"{package.__name__}.{info.name}")
