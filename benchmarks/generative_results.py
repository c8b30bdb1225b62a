"""Generators on Fashion-MNIST at equal training time, judged in a classifier's feature space.

    nice -n 10 python benchmarks/generative_results.py [--minutes M] [--classifier-epochs N]
        [--classifier-config FILE] [--classifier-train-size N] [--examples N] [--only dcgan cgan vae] [--json PATH]

1. Trains the project's classifier (``--classifier-config``, by default ``cnn_fashion_mnist``,
   for ``--classifier-epochs`` epochs)
   whose penultimate layer is the feature space, and reports its test accuracy: the ceiling
   of class consistency.
2. Trains DCGAN, the conditional GAN and the VAE (``vae16_fashion_mnist``) through the shared
   trainer, each stopped after ``--minutes`` of training (the same wall-clock budget).
3. Draws ``--examples`` images from each and compares them with as many real test images:
   Fréchet classifier distance, precision / recall (k = 5), and for the conditional GAN the
   class consistency; the same figures for real *training* images against the test images
   are the floor a perfect generator would reach.

Prints one table; ``--json`` writes the figures too. Runs go to ``runs/benchmarks/``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tables import print_table  # benchmarks/tables.py, beside this script
from timing import TimeBudget  # benchmarks/timing.py, beside this script

from keras_curriculum.datasets import load_source
from keras_curriculum.evaluation import generative
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
GENERATORS = {
    "dcgan": "dcgan_fashion_mnist.yaml",
    "cgan": "cgan_fashion_mnist.yaml",
    "vae": "vae16_fashion_mnist.yaml",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=8.0, help="training budget per model")
    parser.add_argument("--classifier-config", default="cnn_fashion_mnist.yaml")
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument(
        "--classifier-train-size", type=int, help="train the classifier on a stratified subset"
    )
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--only", nargs="*", choices=sorted(GENERATORS))
    parser.add_argument("--output-dir", default=str(REPO / "runs" / "benchmarks"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    n = args.examples

    started = time.perf_counter()
    classifier_config = load_config(
        REPO / "configs" / args.classifier_config,
        [f"training.epochs={args.classifier_epochs}", "training.verbose=2"]
        + ([f"data.train_size={args.classifier_train_size}"] if args.classifier_train_size else []),
    )
    classifier_run = train(classifier_config, output_dir=args.output_dir)
    classifier = classifier_run.model
    accuracy = classifier_run.test["accuracy"]
    print(f"classifier: {classifier_run.run_dir} accuracy {accuracy:.4f}", flush=True)
    results: dict[str, dict] = {
        "classifier": {
            "run": str(classifier_run.run_dir),
            "epochs": classifier_run.metrics["epochs"],
            "test_accuracy": accuracy,
            "seconds": round(time.perf_counter() - started, 1),
        }
    }

    source = load_source("fashion_mnist", seed=0)
    rng = np.random.default_rng(0)
    x_train, _ = source.train
    x_test, y_test = source.test
    real = x_test[rng.permutation(len(x_test))[:n]]
    results["real train images (floor)"] = generative.evaluate_generator(
        classifier, real, x_train[rng.permutation(len(x_train))[:n]]
    )

    for key in args.only or list(GENERATORS):
        config = load_config(
            REPO / "configs" / GENERATORS[key], ["training.epochs=1000", "training.verbose=2"]
        )
        started = time.perf_counter()
        run = train(config, output_dir=args.output_dir, callbacks=[TimeBudget(args.minutes * 60)])
        seconds = time.perf_counter() - started
        model = run.model
        labels = np.arange(n) % 10 if key == "cgan" else None
        images = (
            model.sample(n, seed=1, labels=labels)
            if labels is not None
            else model.sample(n, seed=1)
        )
        figures = generative.evaluate_generator(classifier, real, images, labels=labels)
        figures.update(
            run=str(run.run_dir),
            epochs=run.metrics["epochs"],
            train_seconds=run.metrics["train_seconds"],
            seconds=round(seconds, 1),
        )
        results[config.name] = figures
        print(f"{key}: {json.dumps(figures)}", flush=True)

    header = ("images", "Fréchet classifier distance", "precision", "recall", "class consistency",
              "epochs", "training s")  # fmt: skip
    rows = []
    for name, figures in results.items():
        if name == "classifier":
            continue
        consistency = figures.get("class_consistency")
        rows.append(
            (
                name,
                f"{figures['frechet_classifier_distance']:.2f}",
                f"{figures['precision']:.3f}",
                f"{figures['recall']:.3f}",
                "" if consistency is None else f"{consistency:.3f}",
                str(figures.get("epochs", "")),
                str(figures.get("train_seconds", "")),
            )
        )
    rows.append(("classifier test accuracy (ceiling)", "", "", "", f"{accuracy:.3f}",
                 str(results["classifier"]["epochs"]), ""))  # fmt: skip
    print_table(header, rows)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
