"""What a classifier got right and wrong: confusion matrix, precision, recall and F1.

The notes (001 §11) read everything off the confusion matrix C, whose entry C[i, j] counts test
examples of true class i predicted as class j. For class k, with TP = C[k, k], FN = the rest of
row k and FP = the rest of column k:

    precision = TP / (TP + FP)     of the examples called k, the share that are k
    recall    = TP / (TP + FN)     of the examples that are k, the share found
    F1        = 2·precision·recall / (precision + recall)

and the macro averages are the plain means over classes. The notes' digit 5 (TP 1,091, FN 206,
FP 105) has recall 84.1 %, precision 91.22 % and F1 87.53 %.

Registered for the task "classification": after the test evaluation the trainer adds these to
metrics.json under ``classification`` and draws ``plots/confusion_matrix.png`` and, for image
inputs, ``plots/misclassified.png`` (test images with their true and predicted labels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import keras_curriculum.reports.plots as plots
from keras_curriculum.objectives import confusion

MAX_MISCLASSIFIED = 25


def per_class_metrics(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of every class (0 where a ratio is 0/0)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positives = np.diag(matrix)
    predicted = matrix.sum(axis=0)  # TP + FP
    actual = matrix.sum(axis=1)  # TP + FN
    precision = np.divide(
        true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0
    )
    recall = np.divide(true_positives, actual, out=np.zeros_like(true_positives), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(np.int64)}


def summarize(matrix: np.ndarray, class_names: list[str] | None = None) -> dict[str, Any]:
    """The metrics.json entry: confusion matrix, per-class figures and their macro averages."""
    scores = per_class_metrics(matrix)
    names = class_names or [str(k) for k in range(len(matrix))]
    return {
        "class_names": list(names),
        "confusion_matrix": np.asarray(matrix).tolist(),
        "accuracy": float(np.trace(matrix) / max(1, np.sum(matrix))),
        "per_class": {
            name: {
                "precision": float(scores["precision"][k]),
                "recall": float(scores["recall"][k]),
                "f1": float(scores["f1"][k]),
                "support": int(scores["support"][k]),
            }
            for k, name in enumerate(names)
        },
        "macro_precision": float(scores["precision"].mean()),
        "macro_recall": float(scores["recall"].mean()),
        "macro_f1": float(scores["f1"].mean()),
    }


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class indices from a model's outputs: the arg max over several outputs; for one output,
    a probability (or Heaviside bit) > 0.5, or a logit > 0 when it leaves [0, 1]."""
    outputs = np.asarray(outputs, dtype=np.float64)
    outputs = outputs.reshape(len(outputs), -1)  # one output per example → one channel
    is_probability = outputs.min(initial=0.0) >= 0 and outputs.max(initial=0.0) <= 1
    threshold = 0.5 if is_probability or outputs.shape[-1] > 1 else 0.0
    return np.asarray(confusion.predicted_classes(outputs, threshold)).astype(np.int64)


def collect_test_predictions(
    model, dataset, keep_inputs: int
) -> tuple[np.ndarray, np.ndarray, list]:
    """True labels, predicted classes, and the inputs of the first ``keep_inputs`` mistakes.

    The model runs once over the test split, compiled (``model.predict``: under a
    MirroredStrategy it gathers every replica's share); the labels and the mistakes' inputs
    are then read off the same batches in the same order."""
    y_pred = predicted_classes(model.predict(dataset, verbose=0))
    labels, mistakes, seen = [], [], 0
    for x, y in dataset:
        y_true = np.asarray(y).reshape(len(y), -1)[:, 0].astype(np.int64)
        labels.append(y_true)
        if len(mistakes) < keep_inputs:
            wrong = np.flatnonzero(y_true != y_pred[seen : seen + len(y_true)])
            x = np.asarray(x)
            for index in wrong[: keep_inputs - len(mistakes)]:
                mistakes.append((x[index], int(y_true[index]), int(y_pred[seen + index])))
        seen += len(y_true)
    return np.concatenate(labels), y_pred, mistakes


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: Path) -> Path:
    size = max(4.0, 0.5 * len(class_names) + 2)
    figure, axis = plots.subplots(figsize=(size + 1, size))
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046)
    ticks = range(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    if len(class_names) <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            axis.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if count > threshold else "black",
            )
    axis.set_title("confusion matrix (test)")
    return plots.save(figure, path)


def plot_misclassified(mistakes: list, class_names: list[str], path: Path) -> Path:
    columns = min(5, len(mistakes))
    rows = [mistakes[i : i + columns] for i in range(0, len(mistakes), columns)]
    return plots.mosaic(
        [[image for image, _, _ in row] for row in rows],
        path,
        captions=[
            [f"true {class_names[t]}\npred {class_names[p]}" for _, t, p in row] for row in rows
        ],
        title="misclassified test examples",
        inches_per_tile=1.8,
    )


def is_image(input_shape: tuple[int, ...]) -> bool:
    return len(input_shape) == 2 or (len(input_shape) == 3 and input_shape[-1] in (1, 3, 4))


def classification_report(model, data, run_dir: Path) -> dict[str, Any]:
    """Confusion matrix and per-class/macro precision, recall, F1 on the test split, with plots."""
    info = data.info
    image_inputs = is_image(info.input_shape)
    y_true, y_pred, mistakes = collect_test_predictions(
        model, data.test, keep_inputs=MAX_MISCLASSIFIED if image_inputs else 0
    )
    num_classes = info.num_classes or int(max(y_true.max(), y_pred.max()) + 1)
    names = list(info.class_names or [str(k) for k in range(num_classes)])
    matrix = confusion.confusion_matrix(y_true, y_pred, num_classes)
    plot_confusion_matrix(matrix, names, Path(run_dir) / "plots" / "confusion_matrix.png")
    if mistakes:
        plot_misclassified(mistakes, names, Path(run_dir) / "plots" / "misclassified.png")
    return {"classification": summarize(matrix, names)}
