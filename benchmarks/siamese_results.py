"""Siamese networks on classes never seen in training: 4-way one-shot accuracy and its peers.

    nice -n 10 python benchmarks/siamese_results.py [--sources fashion_mnist mnist_5k]
        [--seeds 0 1 2] [--epochs N] [--train-size N] [--classifier-epochs N] [--json PATH]

For each source, the contrastive and the triplet Siamese configs are trained through the
shared trainer on classes 0–5 (one run per seed) and score 4-way one-shot accuracy and pair
verification ROC-AUC on the test images of classes 6–9 (their run reports). The peers are
scored by the same function on the same trials: nearest neighbour on raw pixels, on PCA-32
features (scikit-learn, fitted on the training classes' images), and on the penultimate
layer of ``cnn_fashion_mnist``'s classifier trained on classes 0–5 (``--classifier-epochs``).
``--train-size`` keeps a stratified subset of Fashion-MNIST's training images (before the
class split). Prints a table of mean ± std over seeds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
from tables import print_table  # benchmarks/tables.py, beside this script

from keras_curriculum import datasets, models
from keras_curriculum.evaluation import metric_learning as ml
from keras_curriculum.evaluation.generative import feature_extractor, features
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
TRAIN_CLASSES, TEST_CLASSES = list(range(6)), [6, 7, 8, 9]


def arrays(source: str, train_size: int | None):
    options = {"train_size": train_size} if train_size and source == "fashion_mnist" else {}
    loaded = datasets.load_source(source, seed=0, **options)
    (x_train, y_train), (x_test, y_test) = loaded.train, loaded.test
    kept, held = np.isin(y_train, TRAIN_CLASSES), np.isin(y_test, TEST_CLASSES)
    return (x_train[kept], y_train[kept]), (x_test[held], y_test[held])


def scores(feature_rows, labels, seed: int) -> dict[str, float]:
    return {
        "one_shot": ml.one_shot_accuracy(feature_rows, labels, ways=4, seed=seed),
        "roc_auc": ml.verification_roc_auc(feature_rows, labels, seed=seed),
    }


def classifier_features(x_train, y_train, x_test, epochs: int, seed: int) -> np.ndarray:
    keras.utils.set_random_seed(seed)
    config = load_config(REPO / "configs" / "cnn_fashion_mnist.yaml")
    classifier = models.build(
        "cnn", input_shape=x_train.shape[1:], num_classes=6, **config.model.arguments
    )
    classifier.compile("adam", "sparse_categorical_crossentropy")
    classifier.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    return features(feature_extractor(classifier), x_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="*", default=["fashion_mnist", "mnist_5k"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help="override the configs' training.epochs")
    parser.add_argument("--train-size", type=int, help="Fashion-MNIST training images to keep")
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--output-dir", default=str(REPO / "runs" / "benchmarks"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from sklearn.decomposition import PCA

    results: dict[str, dict[str, list]] = {}
    for source in args.sources:
        (x_train, y_train), (x_test, y_test) = arrays(source, args.train_size)
        rows: dict[str, list] = {}
        for seed in args.seeds:
            flat_train, flat_test = (
                x_train.reshape(len(x_train), -1),
                x_test.reshape(len(x_test), -1),
            )
            peers = {
                "k-NN raw pixels": flat_test,
                "k-NN PCA-32": PCA(32, random_state=seed).fit(flat_train).transform(flat_test),
                "classifier penultimate (classes 0–5)": classifier_features(
                    x_train, y_train, x_test, args.classifier_epochs, seed
                ),
            }
            for name, feature_rows in peers.items():
                rows.setdefault(name, []).append(scores(feature_rows, y_test, seed))
            for loss in ("contrastive", "triplet"):
                overrides = [f"seed={seed}", f"model.seed={seed}", "training.verbose=2"]
                overrides += [f"training.epochs={args.epochs}"] if args.epochs else []
                if args.train_size and source == "fashion_mnist":
                    overrides.append(f"data.source_options.train_size={args.train_size}")
                config = load_config(REPO / "configs" / f"siamese_{loss}_{source}.yaml", overrides)
                started = time.perf_counter()
                run = train(config, output_dir=args.output_dir)
                held_out = run.metrics["held_out"]
                rows.setdefault(f"Siamese {loss}", []).append(
                    {
                        "one_shot": held_out["4_way_one_shot_accuracy"],
                        "roc_auc": held_out["verification_roc_auc"],
                        "epochs": run.metrics["epochs"],
                        "seconds": round(time.perf_counter() - started, 1),
                        "run": str(run.run_dir),
                    }
                )
            print(source, seed, json.dumps(rows), flush=True)
        results[source] = rows

    header = ("data", "features", "4-way 1-shot (mean ± std)", "ROC-AUC", "seeds", "s / run")
    table = []
    for source, rows in results.items():
        for name, runs in rows.items():
            one_shot = np.array([r["one_shot"] for r in runs])
            auc = np.array([r["roc_auc"] for r in runs])
            seconds = [r["seconds"] for r in runs if "seconds" in r]
            table.append(
                (
                    source,
                    name,
                    f"{100 * one_shot.mean():.1f} ± {100 * one_shot.std():.1f} %",
                    f"{auc.mean():.3f}",
                    str(len(runs)),
                    f"{np.mean(seconds):.0f}" if seconds else "",
                )
            )
    print_table(header, table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
