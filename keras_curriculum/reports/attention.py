"""What attention looks at: heat maps of a text Transformer's attention for test sentences.

Runs after the test evaluation of every classification run, but only does something for a model
that provides ``attention_maps`` (``transformer_classifier``; see ``keras_curriculum.reports``):
it draws
``plots/attention.png``, one row per sentence and one panel per head of the last block; cell
(q, k) is how much token q attends to token k (each row sums to 1, padding is left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

import keras_curriculum.reports.plots as plots


def plot_attention(
    sentences: list[tuple[list[str], np.ndarray]], path: Path, *, block: int = -1
) -> Path:
    """``sentences``: (tokens, weights (blocks, heads, T, T)) pairs without padding."""
    import matplotlib.pyplot as plt

    heads = sentences[0][1].shape[1]
    figure, axes = plt.subplots(
        len(sentences), heads, figsize=(3.2 * heads, 3.0 * len(sentences)), squeeze=False
    )
    for row, (tokens, weights) in enumerate(sentences):
        for head in range(heads):
            axis = axes[row, head]
            axis.imshow(weights[block, head], cmap="viridis", vmin=0, vmax=weights[block].max())
            axis.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
            axis.set_yticks(range(len(tokens)), tokens, fontsize=7)
            axis.set_title(f"head {head + 1}", fontsize=9)
            if head == 0:
                axis.set_ylabel("query token")
        axes[row, 0].figure.supxlabel("key token (attended to)")
    figure.suptitle("self-attention of the last encoder block")
    figure.tight_layout()
    return plots.save(figure, path)


def _test_sentences(data, count: int) -> list[str]:
    """The ``count`` shortest sentences of at least four words in the first test batch (short
    sentences make readable maps)."""
    for x, _y in data.test.take(1):
        sentences = [s.decode("utf-8") for s in np.asarray(x)]
        sentences = sorted((s for s in sentences if len(s.split()) >= 4), key=len)
        return sentences[:count]
    return []


def attention_report(model: keras.Model, data, run_dir: Path) -> dict[str, Any]:
    attention_maps = getattr(model, "attention_maps", None)
    if not callable(attention_maps):
        return {}
    maps = [
        (tokens, weights) for tokens, weights in attention_maps(_test_sentences(data, 3)) if tokens
    ]
    if not maps:
        return {}
    path = plot_attention(maps, run_dir / "plots" / "attention.png")
    return {"attention_plot": str(path.relative_to(run_dir))}
