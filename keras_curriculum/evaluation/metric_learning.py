"""How good is a learned distance on classes it never saw? (notes 002 §6.0.3)

* **N-way one-shot accuracy**: a trial draws N classes, one *support* example of each and a
  *query* of one of them; the query is given the class of its nearest support example. Chance
  is 1/N. Any feature space can be scored the same way, so raw pixels, PCA features or a
  classifier's penultimate layer are peers of a Siamese network's embeddings.
* **Pair verification ROC-AUC**: over balanced pairs of one class / of two classes, how well
  the distance alone separates them (scikit-learn's ``roc_auc_score`` on −distance).
* **t-SNE** (scikit-learn) of the embeddings, for a 2-D picture of their clusters.
"""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.views import balanced_pairs


def one_shot_accuracy(
    features: np.ndarray, labels: np.ndarray, *, ways: int = 4, trials: int = 2000, seed: int = 0
) -> float:
    """Mean accuracy of ``trials`` N-way (``ways``) one-shot trials by Euclidean distance."""
    features = np.asarray(features, dtype="float64").reshape(len(features), -1)
    labels = np.asarray(labels).reshape(-1)
    classes = np.unique(labels)
    if ways > len(classes):
        raise ValueError(f"{ways}-way trials need {ways} classes, the set has {len(classes)}")
    members = {c: np.flatnonzero(labels == c) for c in classes}
    rng = np.random.default_rng(seed)
    correct = 0
    for _ in range(trials):
        chosen = rng.choice(classes, ways, replace=False)
        target = rng.integers(ways)
        support = np.empty(ways, dtype=np.int64)
        for i, c in enumerate(chosen):
            if i == target:  # the query's class: two distinct examples, support and query
                support[i], query = rng.choice(members[c], 2, replace=False)
            else:
                support[i] = rng.choice(members[c])
        distances = np.linalg.norm(features[support] - features[query], axis=1)
        correct += int(np.argmin(distances) == target)
    return correct / trials


def verification_roc_auc(
    features: np.ndarray, labels: np.ndarray, *, pairs: int = 5000, seed: int = 0
) -> float:
    """ROC-AUC of −distance for telling balanced same-class pairs from different-class ones."""
    from sklearn.metrics import roc_auc_score

    features = np.asarray(features, dtype="float64").reshape(len(features), -1)
    drawn = balanced_pairs(np.asarray(labels).reshape(-1), pairs, np.random.default_rng(seed))
    distances = np.linalg.norm(features[drawn[:, 0]] - features[drawn[:, 1]], axis=1)
    return float(roc_auc_score(drawn[:, 2], -distances))


def tsne(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE projection of the rows of ``features``."""
    from sklearn.manifold import TSNE

    features = np.asarray(features, dtype="float32").reshape(len(features), -1)
    perplexity = min(30.0, max(2.0, (len(features) - 1) / 3))
    return TSNE(2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(features)
