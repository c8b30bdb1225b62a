"""The classification report: the notes' worked metrics, and what a run writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CONFIGS

from keras_curriculum.objectives.confusion import confusion_matrix
from keras_curriculum.reports.classification import (
    per_class_metrics,
    predicted_classes,
    summarize,
)


def test_notes_worked_example_digit_5():
    """001 §11.1, digit 5 against the rest: TP 1,091, FN 206, FP 105, TN 12,598 → recall
    84.1 %, precision 91.22 %, F1 87.53 % (the notes print 91.8 % and 87.08 %: both wrong)."""
    matrix = np.array([[1091, 206], [105, 12598]])  # rows: true 5, true other
    scores = per_class_metrics(matrix)
    assert scores["recall"][0] == pytest.approx(0.8412, abs=5e-5)
    assert scores["precision"][0] == pytest.approx(0.9122, abs=5e-5)
    assert scores["f1"][0] == pytest.approx(0.8753, abs=5e-5)
    assert round(100 * scores["recall"][0], 1) == 84.1


def test_matches_scikit_learn():
    from sklearn.metrics import confusion_matrix as sk_confusion
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, 300))
    matrix = confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(matrix, sk_confusion(y_true, y_pred, labels=range(4)))
    summary = summarize(matrix, ["a", "b", "c", "d"])
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred)
    assert [summary["per_class"][k]["f1"] for k in "abcd"] == pytest.approx(list(f1))
    assert summary["macro_precision"] == pytest.approx(precision.mean())
    assert summary["macro_recall"] == pytest.approx(recall.mean())
    assert summary["macro_f1"] == pytest.approx(f1.mean())


def test_predicted_classes_from_every_kind_of_output():
    assert predicted_classes(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])).tolist() == [1, 0]
    assert predicted_classes(np.array([[0.2], [0.9], [1.0]])).tolist() == [
        0,
        1,
        1,
    ]  # sigmoid / Heaviside
    assert predicted_classes(np.array([[-2.0], [0.3], [1.5]])).tolist() == [0, 1, 1]  # one logit


def test_run_writes_report_and_plots(output_dir):
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import train

    config = load_config(
        CONFIGS / "mlp_digits.yaml",
        ["training.epochs=3", "training.verbose=0", "training.callbacks.tensorboard=false"],
    )
    result = train(config, output_dir=output_dir)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    report = metrics["classification"]
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == result.data.info.num_examples["test"]
    assert report["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    assert set(report["per_class"]) == set(result.data.info.class_names)
    assert 0 <= report["macro_f1"] <= 1
    assert (result.run_dir / "plots" / "confusion_matrix.png").stat().st_size > 0
    if np.trace(matrix) < matrix.sum():
        assert (result.run_dir / "plots" / "misclassified.png").stat().st_size > 0
