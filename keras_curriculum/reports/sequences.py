"""What a finished generation run writes: bits per character and samples for a character
language model, greedy exact match and attention maps for an encoder–decoder.

``language_model`` runs: ``bits_per_character`` on the whole test split (the mean
cross-entropy in bits, from the model's probabilities; a stateful model reads the batches in
order from a zero state, so each window is scored with the text before it) and
``samples.txt``, text sampled at temperatures 0.5 and 1.0 after the first test window's opening
characters.

``seq2seq`` runs: ``exact_match`` of greedy decoding on the whole test split, ``examples.txt``
(source, target, decoded, for the first test examples) and, for a model with attention (its
``alignment`` method, see ``keras_curriculum.reports``), ``plots/attention.png``: target step ×
source token for three test examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import keras_curriculum.reports.plots as plots
from keras_curriculum.evaluation import generation

EXAMPLE_LINES = 60  # examples.txt: the first test examples, enough to read


def language_model_report(model, data, run_dir: Path) -> dict[str, Any]:
    vocabulary = getattr(model, "vocabulary", None)
    if hasattr(model, "reset_state"):
        model.reset_state()
    bits, counts, prompt = [], [], None
    for x, y in data.test:  # the whole split, in order: the figure is the test loss ÷ ln 2
        probabilities = np.asarray(model.predict_on_batch(x))
        bits.append(generation.bits_per_character(probabilities, np.asarray(y)))
        counts.append(np.asarray(y).size)
        prompt = np.asarray(x)[0, :40] if prompt is None else prompt
    if not bits:
        return {}
    results: dict[str, Any] = {"bits_per_character": float(np.average(bits, weights=counts))}
    if vocabulary is not None:
        predictor = model.stateless() if hasattr(model, "stateless") else model
        text = "".join(vocabulary[i] for i in prompt)
        lines = []
        for temperature in (0.5, 1.0):
            sample = generation.sample_text(predictor, text, 200, temperature=temperature, seed=0)
            lines.append(f"--- temperature {temperature} ---\n{sample}\n")
        path = run_dir / "samples.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        results["samples"] = path.name
    return results


def plot_alignments(examples: list[tuple[str, str, np.ndarray]], path: Path) -> Path:
    """``examples``: (source text, decoded text, weights (target steps, source tokens))."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(examples), figsize=(4.2 * len(examples), 4), squeeze=False)
    for axis, (source, decoded, weights) in zip(axes[0], examples, strict=True):
        axis.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        axis.set_xticks(range(len(source)), list(source), fontsize=7)
        axis.set_yticks(range(len(decoded) + 1), [*decoded, "<EOS>"], fontsize=7)
        axis.set_xlabel("source")
    axes[0, 0].set_ylabel("decoder step")
    figure.suptitle("attention weights (each row sums to 1)")
    figure.tight_layout()
    return plots.save(figure, path)


def seq2seq_report(model, data, run_dir: Path) -> dict[str, Any]:
    vocabulary = getattr(model, "vocabulary", None)
    if vocabulary is None:
        return {}
    matches, lines, first = [], [], None
    for (source_ids, _decoder), targets, *_ in data.test:  # the whole split
        source_ids, targets = np.asarray(source_ids), np.asarray(targets)
        decoded = generation.greedy_decode(model, source_ids)
        matches.append(generation.exact_match(decoded, targets))
        room = max(EXAMPLE_LINES - len(lines), 0)
        for s, t, d in zip(source_ids[:room], targets[:room], decoded[:room], strict=True):
            lines.append("\t".join(generation.ids_to_text(row, vocabulary) for row in (s, t, d)))
        first = (source_ids[:3], decoded[:3]) if first is None else first
    results: dict[str, Any] = {"exact_match": float(np.concatenate(matches).mean())}
    (run_dir / "examples.txt").write_text(
        "source\ttarget\tdecoded\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    alignment = getattr(model, "alignment", None)
    if callable(alignment) and first is not None:
        sources, decoded = first
        prefixes = np.concatenate(
            [np.full((len(decoded), 1), generation.SOS, np.int32), decoded.astype(np.int32)], 1
        )
        try:
            weights = alignment(sources, prefixes[:, :-1] if prefixes.shape[1] > 1 else prefixes)
        except ValueError:  # a model without attention
            return results
        examples = []
        for row, source in enumerate(sources):
            source_text = generation.ids_to_text(source, vocabulary)
            decoded_text = generation.ids_to_text(decoded[row], vocabulary)
            examples.append(
                (
                    source_text,
                    decoded_text,
                    weights[row, : len(decoded_text) + 1, : len(source_text)],
                )
            )
        path = plot_alignments(examples, run_dir / "plots" / "attention.png")
        results["attention_plot"] = str(path.relative_to(run_dir))
    return results
