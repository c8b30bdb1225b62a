"""Executes the lesson notebooks with a real Jupyter kernel.

    python notebooks/execute.py            # full run: refresh the stored outputs (make notebooks)
    python notebooks/execute.py --smoke    # small configuration, outputs not saved (the tests)
    python notebooks/execute.py 00_tour    # only the notebooks whose names contain '00_tour'

In full mode TensorFlow's C++ start-up log lines are dropped from the stored outputs, so the
saved notebooks read like lecture notes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
_TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl|[IWEF]\d{4} \d\d:\d\d:\d\d|To enable the following instructions)"
)


def notebooks(patterns: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not patterns or any(pattern in p.name for pattern in patterns)]


def execute(path: Path, *, smoke: bool, timeout: int = 1800) -> nbformat.NotebookNode:
    """Runs ``path`` top to bottom (raises on the first failing cell) and returns the result."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get("KERAS_CURRICULUM_SMOKE")
    os.environ["KERAS_CURRICULUM_SMOKE"] = "1" if smoke else "0"
    try:
        NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
        ).execute()
    finally:
        if previous is None:
            os.environ.pop("KERAS_CURRICULUM_SMOKE", None)
        else:
            os.environ["KERAS_CURRICULUM_SMOKE"] = previous
    return notebook


def drop_tensorflow_logs(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if cell.cell_type != "code":  # only code cells have outputs (nbformat)
            continue
        outputs = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = [line for line in output["text"].splitlines(True) if not _TF_LOG_LINE.match(line)]
                if not "".join(lines).strip():
                    continue
                output["text"] = "".join(lines)
            outputs.append(output)
        cell["outputs"] = outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("patterns", nargs="*", help="run only notebooks whose names contain one of these")
    parser.add_argument("--smoke", action="store_true", help="small configuration; do not save outputs")
    args = parser.parse_args()
    for path in notebooks(args.patterns):
        started = time.perf_counter()
        notebook = execute(path, smoke=args.smoke)
        if not args.smoke:
            drop_tensorflow_logs(notebook)
            nbformat.write(notebook, path)
        size = path.stat().st_size / 1e6
        print(f"{path.name}: {time.perf_counter() - started:.0f} s, {size:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
