"""Every lesson notebook runs top to bottom with a real Jupyter kernel in smoke mode
(KERAS_CURRICULUM_SMOKE=1: few epochs, small subsets), and its stored full-run outputs stay small."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notebooks"))
import execute  # noqa: E402

NOTEBOOKS = execute.notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(path: Path):
    notebook = execute.execute(path, smoke=True, timeout=600)
    errors = [
        o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_with_full_run_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)  # e.g. no `outputs` on a markdown cell: Jupyter would complain
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert code_cells and all(c.get("execution_count") for c in code_cells), (
        "re-run `make notebooks`"
    )
    assert path.stat().st_size < 2_000_000
    assert notebook.cells[-1].cell_type == "markdown" and "Exercises" in notebook.cells[-1].source
