"""Printing a benchmark's results as one plain-text table (Markdown-compatible rows)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """``header`` and ``rows`` of strings, columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def write_rows(path: Path, rows: Sequence[dict], key: str) -> list[dict]:
    """Merges ``rows`` into the JSON list at ``path`` (a row replaces the stored one with the same
    ``key`` value; the others are kept, so runs of ``--only`` parts add up) and writes it
    atomically. Returns the merged list."""
    stored = json.loads(path.read_text()) if path.exists() else []
    fresh = {row[key] for row in rows}
    merged = [row for row in stored if row.get(key) not in fresh] + list(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(merged, indent=2) + "\n")
    os.replace(temporary, path)
    return merged
