"""What a metric-learning run (a Siamese network) writes about classes it never trained on.

For a ``metric_learning`` run, on the test split (labelled images of the held-out classes):
``metrics.json`` gets the N-way one-shot accuracy (N = the number of test classes, at most 4;
chance 1/N) and the pair-verification ROC-AUC; ``plots/tsne.png`` shows a t-SNE projection of
the embeddings coloured by class, and ``projector/`` holds ``vectors.tsv`` + ``metadata.tsv``
for the TensorBoard Embedding Projector. The model is asked only for ``model(x)``: embeddings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from keras import ops

from keras_curriculum.evaluation import metric_learning as ml
from keras_curriculum.evaluation.word_vectors import WordVectors, save_projector_files
from keras_curriculum.reports import plots

TSNE_EXAMPLES = 2000


def test_arrays(data) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for x, y in data.test:
        xs.append(ops.convert_to_numpy(x))
        ys.append(ops.convert_to_numpy(y))
    return np.concatenate(xs), np.concatenate(ys).reshape(-1)


def tsne_plot(points: np.ndarray, labels: np.ndarray, names, path: Path) -> Path:
    figure, axis = plots.subplots(figsize=(5, 4.5))
    for c in np.unique(labels):
        chosen = labels == c
        name = names[c] if names and c < len(names) else str(c)
        axis.scatter(points[chosen, 0], points[chosen, 1], s=4, label=name)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title("t-SNE of held-out classes' embeddings")
    axis.legend(markerscale=3, fontsize=7)
    return plots.save(figure, path)


def metric_learning_report(model, data, run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    x, labels = test_arrays(data)
    embeddings = np.asarray(model.predict(x, batch_size=256, verbose=0))
    ways = min(4, len(np.unique(labels)))
    subset = np.random.default_rng(0).permutation(len(x))[:TSNE_EXAMPLES]
    names = data.info.class_names
    tsne_plot(ml.tsne(embeddings[subset]), labels[subset], names, run_dir / "plots" / "tsne.png")
    (run_dir / "projector").mkdir(exist_ok=True)
    words = [names[c] if names else str(c) for c in labels[subset]]
    save_projector_files(run_dir / "projector", WordVectors(words, embeddings[subset]))
    return {
        "held_out": {
            "classes": sorted(int(c) for c in np.unique(labels)),
            "images": len(labels),
            f"{ways}_way_one_shot_accuracy": ml.one_shot_accuracy(embeddings, labels, ways=ways),
            "verification_roc_auc": ml.verification_roc_auc(embeddings, labels),
        }
    }
