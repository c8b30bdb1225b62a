"""Autoencoders and VAEs on Fashion-MNIST: the results the curriculum promises, measured.

    nice -n 10 python benchmarks/autoencoder_results.py [--epochs N] [--train-size N] [--only NAME ...]

Trains the four configs below through the shared trainer (the configs' own epochs unless
``--epochs``; all 60,000 training images unless ``--train-size``), fits PCA with 32 and 2 components on the same training split as the peer of
the autoencoder, and prints one table: metric, value, target, epochs and CPU wall time.
Runs go to ``runs/benchmarks/`` (their metrics.json and plots are the figures' source).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import load_data, train

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {
    "autoencoder": "autoencoder_fashion_mnist.yaml",
    "denoising": "denoising_autoencoder_fashion_mnist.yaml",
    "vae2": "vae2_fashion_mnist.yaml",
    "vae16": "vae16_fashion_mnist.yaml",
}


def pca_mse(config, components: int) -> tuple[float, float]:
    """Test MSE per pixel of PCA with ``components`` components fitted on the training split
    the autoencoder trains on (same seed, same validation hold-out); and the seconds it took."""
    from sklearn.decomposition import PCA

    started = time.perf_counter()
    data = load_data(config)

    def stack(split):
        return np.concatenate([np.asarray(x) for x, _ in split]).reshape(-1, 784)

    x_train, x_test = stack(data.train), stack(data.test)
    pca = PCA(components, random_state=0).fit(x_train)
    x_hat = pca.inverse_transform(pca.transform(x_test))
    return float(np.mean(np.square(x_hat - x_test))), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="override every config's training.epochs")
    parser.add_argument(
        "--train-size", type=int, help="train on a stratified subset of Fashion-MNIST's 60,000"
    )
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="configs to run")
    parser.add_argument("--output-dir", default=str(REPO / "runs" / "benchmarks"))
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(config, metric, value, target="", epochs="", seconds=None):
        when = "" if seconds is None else f"{seconds:.0f} s"
        rows.append((config, metric, value, target, str(epochs), when))

    results = {}
    for key in args.only or list(CONFIGS):
        overrides = [f"training.epochs={args.epochs}"] if args.epochs else []
        overrides += [f"data.train_size={args.train_size}"] if args.train_size else []
        overrides += ["training.verbose=2"]
        config = load_config(REPO / "configs" / CONFIGS[key], overrides)
        started = time.perf_counter()
        result = train(config, output_dir=args.output_dir)
        seconds = time.perf_counter() - started
        results[key] = result
        metrics, epochs = result.metrics, result.metrics["epochs"]
        recon = metrics.get("reconstruction", {})
        print(f"{key}: {result.run_dir} ({seconds:.0f} s)", flush=True)
        if key == "autoencoder":
            row(
                config.name,
                "test MSE per pixel",
                f"{recon['mse_per_pixel']:.4f}",
                "≤ 0.010",
                epochs,
                seconds,
            )
            row(config.name, "test PSNR (dB)", f"{recon['psnr_db']:.2f}", "", epochs)
            for components in (32, 2):
                mse, pca_seconds = pca_mse(config, components)
                row(
                    f"PCA-{components} (same split)",
                    "test MSE per pixel",
                    f"{mse:.4f}",
                    "peer",
                    "",
                    pca_seconds,
                )
        elif key == "denoising":
            noisy = recon["denoising"]
            row(
                config.name,
                "noisy input PSNR (dB)",
                f"{noisy['noisy_psnr_db']:.2f}",
                "",
                epochs,
                seconds,
            )
            row(config.name, "denoised PSNR (dB)", f"{noisy['denoised_psnr_db']:.2f}", "", epochs)
            row(config.name, "PSNR gain (dB)", f"{noisy['psnr_gain_db']:.2f}", "≥ 8", epochs)
        else:
            test, likelihood = metrics["test"], metrics["likelihood"]
            subset = f"(first {likelihood['examples']} test images)"
            row(
                config.name,
                "test negative ELBO (nats/image)",
                f"{test['negative_elbo']:.2f}",
                "reported",
                epochs,
                seconds,
            )
            row(config.name, "test KL (nats/image)", f"{test['kl']:.2f}", "", epochs)
            row(
                config.name,
                f"negative ELBO {subset}",
                f"{likelihood['negative_elbo']:.2f}",
                "",
                epochs,
            )
            row(
                config.name,
                f"−log p(x), k = {likelihood['importance_samples']} {subset}",
                f"{likelihood['negative_log_likelihood']:.2f}",
                "≤ negative ELBO",
                epochs,
            )
    if "vae2" in results and "vae16" in results:
        gap = (
            results["vae2"].metrics["likelihood"]["negative_log_likelihood"]
            - results["vae16"].metrics["likelihood"]["negative_log_likelihood"]
        )
        row("vae16 vs vae2", "−log p(x) lower by (nats)", f"{gap:.2f}", "≥ 10")

    header = ("config", "metric", "value", "target", "epochs", "CPU wall time")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
