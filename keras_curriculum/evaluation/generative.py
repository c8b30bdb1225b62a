"""How good are a generator's images? Measured in the feature space of a classifier.

A generator (a GAN, a VAE's decoder) is judged by comparing a set of its images with a set of
real ones. Pixels are a poor space for that, so the images are mapped to the penultimate-layer
features of a classifier trained by this project on the same data, where distances follow
what tells the classes apart. Three measures:

* **Fréchet classifier distance** — fit a Gaussian to each set of features and take the
  Fréchet (2-Wasserstein) distance between them,

      d² = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½).

  It is the formula of the FID (Heusel et al. 2017), but FID is defined on Inception-v3
  features of natural images; on another network's features the figures are not FIDs and
  are comparable only with each other.
* **Precision and recall** (Kynkäänniemi et al. 2019): each set's manifold is the union of
  balls around its points reaching to their k-th nearest neighbour. Precision is the share of
  generated points inside the real manifold (are the fakes realistic?), recall the share of
  real points inside the generated one (is the variety covered? mode collapse lowers it).
  Computed by ``prdc`` (Naeem et al. 2020), the reference implementation.
* **Class consistency** of a conditional generator: the classifier's accuracy on generated
  images against the labels they were conditioned on.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import keras
import numpy as np


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """The classifier up to its last layer's input: its penultimate features."""
    return keras.Model(classifier.inputs, classifier.layers[-1].input, name="features")


def features(extractor: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """Features of ``images`` as float64 rows (the covariance needs the precision)."""
    out = extractor.predict(np.asarray(images, dtype="float32"), batch_size=batch_size, verbose=0)
    return np.asarray(out, dtype="float64").reshape(len(out), -1)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` and of ``b``."""
    from scipy import linalg

    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    if not np.isfinite(root).all():  # a singular product: nudge both diagonals (as pytorch-fid)
        offset = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    root = root.real  # rounding leaves a tiny imaginary part
    value = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root)
    return float(max(value, 0.0))


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall (and prdc's density and coverage) of ``fake`` against ``real``."""
    import prdc

    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        scores = prdc.compute_prdc(
            real_features=np.asarray(real, dtype="float32"),
            fake_features=np.asarray(fake, dtype="float32"),
            nearest_k=k,
        )
    return {name: float(value) for name, value in scores.items()}


def class_consistency(classifier: keras.Model, images, labels) -> float:
    """Share of generated ``images`` the classifier assigns to the class they were drawn for."""
    probabilities = classifier.predict(np.asarray(images, dtype="float32"), verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=-1) == np.asarray(labels).reshape(-1)))


def evaluate_generator(
    classifier: keras.Model,
    real,
    generated,
    *,
    labels=None,
    k: int = 5,
) -> dict[str, Any]:
    """Every measure above for ``generated`` images against ``real`` ones (``labels``: the
    classes the generated images were conditioned on, for class consistency)."""
    extractor = feature_extractor(classifier)
    real_features, fake_features = features(extractor, real), features(extractor, generated)
    results: dict[str, Any] = {
        "frechet_classifier_distance": frechet_distance(real_features, fake_features),
        **precision_recall(real_features, fake_features, k),
        "real": len(real_features),
        "generated": len(fake_features),
        "k": k,
    }
    if labels is not None:
        results["class_consistency"] = class_consistency(classifier, generated, labels)
    return results
