"""Siamese networks: the losses against their formulas, semi-hard mining, held-out classes in
the pair pipeline, the one-shot measures and a few-step run of each config."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_yaml_config

from keras_curriculum import datasets
from keras_curriculum.datasets.views import balanced_pairs
from keras_curriculum.evaluation import metric_learning as ml
from keras_curriculum.models.siamese import (
    batch_contrastive_loss,
    contrastive_loss,
    mine_negatives,
    pairwise_distances,
    triplet_loss,
)
from keras_curriculum.training.trainer import train

# Four unit vectors in the plane: two of class 0, two of class 1.
ANGLES = np.array([0.0, 0.3, 1.2, 2.5])
POINTS = np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1).astype("float32")
LABELS = np.array([0, 0, 1, 1], dtype="int32")


def distance(i, j):
    return float(np.linalg.norm(POINTS[i] - POINTS[j]))


def test_contrastive_loss_equals_the_formula():
    d = np.array([0.2, 0.4, 1.5], dtype="float32")
    same = np.array([1.0, 0.0, 0.0], dtype="float32")
    expected = [0.5 * 0.2**2, 0.5 * (1.0 - 0.4) ** 2, 0.0]
    np.testing.assert_allclose(contrastive_loss(same, d, margin=1.0), expected, rtol=1e-6)

    # Every pair of a labelled batch: positives (0,1), (2,3); the four negatives.
    positives = [0.5 * distance(0, 1) ** 2, 0.5 * distance(2, 3) ** 2]
    negatives = [0.5 * max(0.0, 1.0 - distance(i, j)) ** 2 for i in (0, 1) for j in (2, 3)]
    expected = 0.5 * (np.mean(positives) + np.mean(negatives))
    got = float(batch_contrastive_loss(POINTS, LABELS, margin=1.0))
    assert got == pytest.approx(expected, rel=1e-5)


def test_triplet_loss_equals_the_formula_with_hard_negatives():
    margin = 0.5
    nearest_negative = {
        a: min(distance(a, n) for n in range(4) if LABELS[n] != LABELS[a]) for a in range(4)
    }
    hinges = [
        max(0.0, distance(a, p) - nearest_negative[a] + margin)
        for a in range(4)
        for p in range(4)
        if p != a and LABELS[p] == LABELS[a]
    ]
    got = float(triplet_loss(POINTS, LABELS, margin=margin, mining="hard"))
    assert got == pytest.approx(np.mean(hinges), rel=1e-5)


def test_semi_hard_mining_picks_negatives_inside_the_margin():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(48, 8)).astype("float32")
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = rng.integers(0, 4, 48).astype("int32")
    margin = 0.4
    distances = np.asarray(pairwise_distances(embeddings))
    negatives, valid = (np.asarray(t) for t in mine_negatives(distances, labels, "semi_hard"))
    checked = 0
    for a, p in zip(*np.nonzero(valid), strict=True):
        d_ap = distances[a, p]
        candidates = [
            distances[a, n] for n in range(48) if labels[n] != labels[a] and distances[a, n] > d_ap
        ]
        n = negatives[a, p]
        assert labels[n] != labels[a]
        if candidates and min(candidates) < d_ap + margin:  # a semi-hard negative exists
            assert d_ap < distances[a, n] < d_ap + margin
            assert distances[a, n] == pytest.approx(min(candidates))
            checked += 1
    assert checked > 50


def test_balanced_pairs():
    labels = np.repeat(np.arange(5), 20)
    pairs = balanced_pairs(labels, 1000, np.random.default_rng(0))
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    np.testing.assert_array_equal(same, pairs[:, 2] == 1)
    assert pairs[:, 2].sum() == 500
    assert np.all(pairs[same, 0] != pairs[same, 1])


@pytest.mark.parametrize("pairs", [True, False])
def test_no_evaluation_class_in_training(pairs):
    data = datasets.load(
        "metric_learning",
        source="mnist_5k",
        train_classes=[0, 1, 2, 3, 4, 5],
        pairs=pairs,
        batch_size=256,
        seed=0,
    )
    source = datasets.load_source("mnist_5k")
    x_all = np.concatenate([source.train[0], source.test[0]])
    y_all = np.concatenate([source.train[1], source.test[1]])
    held_out = {x.tobytes() for x, y in zip(x_all, y_all, strict=True) if y >= 6}
    seen = 0
    for split in (data.train, data.validation):
        for x, y in split:
            images = np.concatenate([x[0], x[1]]) if pairs else np.asarray(x)
            assert not any(image.tobytes() in held_out for image in images)
            if not pairs:
                assert set(np.asarray(y).tolist()) <= set(range(6))
            seen += len(images)
    assert seen >= 2000  # mnist_5k: 2,400 training images of digits 0–5
    test_labels = np.concatenate([np.asarray(y) for _, y in data.test])
    assert set(test_labels.tolist()) == {6, 7, 8, 9}


def test_one_shot_and_roc_auc_of_perfect_and_random_features():
    labels = np.repeat(np.arange(4), 25)
    perfect = np.eye(4)[labels] + 0.01 * np.random.default_rng(0).normal(size=(100, 4))
    assert ml.one_shot_accuracy(perfect, labels, ways=4, trials=300) == 1.0
    assert ml.verification_roc_auc(perfect, labels, pairs=400) == 1.0
    noise = np.random.default_rng(1).normal(size=(100, 16))
    assert 0.1 < ml.one_shot_accuracy(noise, labels, ways=4, trials=1000) < 0.4  # chance 1/4
    assert ml.tsne(perfect).shape == (100, 2)


TINY_RUN = [
    "data.source_options.train_size=600",
    "data.batch_size=64",
    "training.epochs=2",
    "model.filters=[8,16]",
    "model.embedding_dim=16",
    "training.verbose=0",
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["siamese_contrastive_mnist_5k.yaml", "siamese_triplet_mnist_5k.yaml"]
)
def test_config_trains_and_reports_held_out_classes(name, output_dir):
    result = train(load_yaml_config(name, *TINY_RUN), output_dir=output_dir)
    losses = result.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[0] != losses[1]
    held_out = result.metrics["held_out"]
    assert held_out["classes"] == [6, 7, 8, 9]
    assert 0 <= held_out["4_way_one_shot_accuracy"] <= 1
    assert 0 <= held_out["verification_roc_auc"] <= 1
    assert (result.run_dir / "plots" / "tsne.png").exists()
    assert (result.run_dir / "projector" / "vectors.tsv").exists()


@pytest.mark.parametrize(
    "name",
    [
        "siamese_contrastive_fashion_mnist.yaml",
        "siamese_triplet_fashion_mnist.yaml",
        "dcgan_fashion_mnist.yaml",
        "cgan_fashion_mnist.yaml",
    ],
)
def test_configs_load(name):
    config = load_yaml_config(name)
    assert config.training.loss is None
