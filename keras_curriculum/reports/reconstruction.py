"""The report for reconstruction tasks (``data.targets: inputs``): how well x̂ matches x, and
the pictures that show what an autoencoder learned.

metrics.json gets a ``reconstruction`` section: the test mean squared error per pixel and the
peak signal-to-noise ratio, PSNR = 10·log₁₀(peak² / MSE) in dB with the peak the data range
(1 for images in [0, 1]), averaged over test images. For a denoising model (one with a
``denoising`` attribute and a ``corrupt(x)`` method) it adds the PSNR of the corrupted input,
the PSNR of the model's output on that input, and the gain between them.

Plots in ``run_dir/plots``: inputs above their reconstructions (and the noisy inputs for a
denoising model); for models with ``sample(n)``, samples from the prior; for models with a 2-D
code (``encode``/``decode``), the test set's codes coloured by class and the decoded grid of
the latent space.

The report uses only public model methods when they exist (``reconstruct``, ``encode``,
``decode``, ``sample``, ``corrupt``) and falls back to ``model.predict`` otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

import keras_curriculum.reports.plots as plots

GRID_EXAMPLES = 10
MANIFOLD_SIZE = 15


def reconstruction_report(model, data, run_dir: Path) -> dict[str, Any]:
    x = np.concatenate([np.asarray(batch[0]) for batch in data.test])
    x_hat = reconstruct(model, x)
    if np.shape(x_hat) != x.shape:  # not an x → x̂ model: nothing to compare
        return {}
    peak = float(x.max() - x.min()) or 1.0
    results: dict[str, Any] = {
        "examples": len(x),
        "mse_per_pixel": float(np.mean(np.square(x_hat - x))),
        "psnr_db": mean_psnr(x, x_hat, peak),
        "psnr_peak": peak,
    }
    noisy = denoised = None
    if getattr(model, "denoising", None) and callable(getattr(model, "corrupt", None)):
        noisy = np.asarray(model.corrupt(x))
        denoised = reconstruct(model, noisy)
        noisy_psnr = mean_psnr(x, noisy, peak)
        denoised_psnr = mean_psnr(x, denoised, peak)
        results["denoising"] = {
            "noise": model.denoising,
            "noise_level": getattr(model, "noise_level", None),
            "noisy_mse_per_pixel": float(np.mean(np.square(noisy - x))),
            "denoised_mse_per_pixel": float(np.mean(np.square(denoised - x))),
            "noisy_psnr_db": noisy_psnr,
            "denoised_psnr_db": denoised_psnr,
            "psnr_gain_db": denoised_psnr - noisy_psnr,
        }
    if x.ndim in (3, 4):  # images: draw them
        draw_pictures(model, data, run_dir / "plots", x, x_hat, noisy, denoised)
    return {"reconstruction": results}


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    """The model's deterministic reconstruction of ``x`` (its own ``reconstruct`` if any)."""
    own = getattr(model, "reconstruct", None)
    if callable(own):
        return np.asarray(own(x))
    return np.asarray(model.predict(x, batch_size=256, verbose=0))


def mean_psnr(x: np.ndarray, x_hat: np.ndarray, peak: float) -> float:
    """PSNR in dB of each example against its reference, averaged over examples."""
    axes = tuple(range(1, x.ndim))
    mse = np.maximum(np.mean(np.square(np.asarray(x_hat) - x), axis=axes), 1e-12)
    return float(np.mean(10.0 * np.log10(peak**2 / mse)))


# ---------------------------------------------------------------------------------------------
# Pictures.


def draw_pictures(model, data, folder: Path, x, x_hat, noisy, denoised) -> None:
    if noisy is None:
        rows = [("input", x), ("reconstruction", x_hat)]
    else:
        rows = [("input", x), ("noisy input", noisy), ("denoised", denoised)]
    image_grid(rows, folder / "reconstructions.png", columns=GRID_EXAMPLES)
    if callable(getattr(model, "sample", None)):
        samples = np.asarray(model.sample(GRID_EXAMPLES * 4, seed=0))
        image_grid(
            [("", samples[i::4]) for i in range(4)],
            folder / "prior_samples.png",
            columns=GRID_EXAMPLES,
            title="samples from the prior, decode(z), z ~ N(0, I)",
        )
    if callable(getattr(model, "encode", None)) and callable(getattr(model, "decode", None)):
        codes = np.asarray(model.encode(x))
        if codes.ndim == 2 and codes.shape[1] == 2:
            latent_scatter(codes, data, folder / "latent_space.png")
            latent_manifold(model, codes, folder / "latent_manifold.png")


def as_image(image: np.ndarray) -> np.ndarray:
    image = np.clip(np.asarray(image, dtype="float32"), 0.0, 1.0)
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def image_grid(rows, path: Path, *, columns: int, title: str | None = None) -> Path:
    """``rows`` of (label, images): the first ``columns`` images of each, labelled on the left."""
    return plots.mosaic(
        [[as_image(image) for image in images[:columns]] for _, images in rows],
        path,
        row_labels=[label for label, _ in rows],
        title=title,
    )


def latent_scatter(codes: np.ndarray, data, path: Path) -> Path:
    """The test set's 2-D codes, one colour per class (when the class labels are known)."""

    labels = data.labels.get("test")
    figure, axis = plots.subplots(figsize=(6.5, 5.5))
    if labels is not None and len(labels) == len(codes):
        names = data.info.class_names or [str(c) for c in np.unique(labels)]
        cmap = matplotlib.colormaps.get_cmap("tab10" if len(names) <= 10 else "tab20")
        for index, name in enumerate(names):
            chosen = labels == index
            axis.scatter(*codes[chosen].T, s=3, alpha=0.6, color=cmap(index % cmap.N), label=name)
        axis.legend(markerscale=4, fontsize=7, loc="best")
    else:
        axis.scatter(*codes.T, s=3, alpha=0.6)
    axis.set_xlabel("z₁")
    axis.set_ylabel("z₂")
    axis.set_title("test set in the latent space (mean codes)")
    return plots.save(figure, path)


def latent_manifold(model, codes: np.ndarray, path: Path, size: int = MANIFOLD_SIZE) -> Path:
    """Decoded images on a regular grid of the 2-D latent space: ±2 standard deviations of the
    prior for a model that has one (``sample``), else the 1st–99th percentiles of the codes."""

    if callable(getattr(model, "sample", None)):
        axis_values = [np.linspace(-2.0, 2.0, size)] * 2
    else:
        axis_values = [np.linspace(*np.percentile(codes[:, d], [1, 99]), size) for d in (0, 1)]
    grid = np.array([[a, b] for b in axis_values[1][::-1] for a in axis_values[0]], dtype="float32")
    images = np.asarray(model.decode(grid))
    images = np.stack([as_image(image) for image in images])
    height, width = images.shape[1:3]
    mosaic = (
        images.reshape(size, size, height, width, *images.shape[3:])
        .swapaxes(1, 2)
        .reshape(size * height, size * width, *images.shape[3:])
    )
    figure, axis = plots.subplots(figsize=(7, 7))
    extent = [axis_values[0][0], axis_values[0][-1], axis_values[1][0], axis_values[1][-1]]
    axis.imshow(mosaic, cmap="gray", vmin=0, vmax=1, extent=extent, aspect="auto")
    axis.set_xlabel("z₁")
    axis.set_ylabel("z₂")
    axis.set_title("decoded latent grid")
    return plots.save(figure, path)
