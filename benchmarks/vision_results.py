"""Trains the vision result configs and prints their figures against the targets.

    python benchmarks/vision_results.py                      # every row but the long ones
    python benchmarks/vision_results.py --all                # ResNet-20 too (hours on a CPU)
    python benchmarks/vision_results.py --only cnn resnet20 --max-epochs 3
    python benchmarks/vision_results.py --only resnet20_short   # ResNet-20's CPU recipe, ~90 min

Each row trains its config with the shared trainer (exactly as ``train -c CONFIG`` does) and
reports the test accuracy (for the perceptron: training accuracy and whether its weights equal
scikit-learn's), the target, the epochs run and the wall time of ``fit``. ``--max-epochs``
caps a config's epochs to measure what fits in the time at hand: a capped row says so and
never counts as reaching its target. The mlp row also trains scikit-learn's MLPClassifier
(same hidden layers, Adam, early stopping) on the same training and test split, as its peer.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    key: str
    config: str
    target: float
    long: bool = False  # hours on a CPU: run only with --all or --only


ROWS = [
    Row("perceptron", "perceptron_iris.yaml", 1.0),
    Row("softmax_regression", "softmax_regression_fashion_mnist.yaml", 0.84),
    Row("mlp", "mlp_fashion_mnist.yaml", 0.885),
    Row("cnn", "cnn_fashion_mnist.yaml", 0.92),
    Row("lenet5", "lenet5_mnist_5k.yaml", 0.97),
    Row("resnet20", "resnet20_fashion_mnist.yaml", 0.935, long=True),
    Row("resnet20_short", "resnet20_fashion_mnist_short.yaml", 0.935, long=True),
]


def arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def perceptron_matches_scikit_learn(result) -> bool:
    from sklearn.linear_model import Perceptron

    x, y = arrays(result.data.train)
    epochs = len(result.history["loss"])
    reference = Perceptron(shuffle=False, eta0=1.0, tol=None, penalty=None, max_iter=epochs).fit(
        x, y
    )
    kernel, bias = result.model.net_input.get_weights()
    return bool(
        np.allclose(kernel.ravel(), reference.coef_.ravel(), rtol=1e-5, atol=1e-5)
        and np.allclose(bias, reference.intercept_, rtol=1e-5, atol=1e-5)
    )


def sklearn_mlp_peer(config, data) -> tuple[float, float, int]:
    """MLPClassifier with the config's hidden layers on the same train (+validation) and test
    examples: (test accuracy, fit seconds, iterations)."""
    from sklearn.neural_network import MLPClassifier

    parts = [arrays(data.train)] + (
        [arrays(data.validation)] if data.validation is not None else []
    )
    x_train = np.concatenate([p[0] for p in parts]).reshape(sum(len(p[0]) for p in parts), -1)
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = arrays(data.test)
    peer = MLPClassifier(
        hidden_layer_sizes=tuple(config.model.arguments.get("hidden_units", (64,))),
        batch_size=config.data.batch_size,
        learning_rate_init=config.training.optimizer.learning_rate,
        early_stopping=True,  # holds out 10 % of the training data, like the Keras run
        n_iter_no_change=5,
        max_iter=config.training.epochs,
        random_state=config.seed,
    )
    started = time.perf_counter()
    peer.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    return float(peer.score(x_test.reshape(len(x_test), -1), y_test)), seconds, int(peer.n_iter_)


def run_row(row: Row, args) -> list[dict]:
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import train

    overrides = ["training.verbose=0", "training.callbacks.tensorboard=false", *args.set]
    config = load_config(REPO / "configs" / row.config, overrides)
    capped = args.max_epochs is not None and config.training.epochs > args.max_epochs
    if capped:
        config = load_config(
            REPO / "configs" / row.config, [*overrides, f"training.epochs={args.max_epochs}"]
        )
    result = train(config, output_dir=args.output_dir)
    epochs = len(result.history.get("loss", []))
    seconds = result.metrics["train_seconds"]
    base = {
        "config": row.config,
        "target": row.target,
        "epochs": epochs,
        "seconds": seconds,
        "capped": capped,
    }
    if row.key == "perceptron":
        accuracy = result.model.evaluate(result.data.train, return_dict=True, verbose=0)["accuracy"]
        note = "weights = scikit-learn: " + (
            "yes" if perceptron_matches_scikit_learn(result) else "NO"
        )
        rows = [{**base, "metric": "train accuracy", "value": accuracy, "note": note}]
    else:
        rows = [
            {
                **base,
                "metric": "test accuracy",
                "value": result.test["accuracy"],
                "note": str(result.run_dir),
            }
        ]
    if row.key == "mlp" and not args.no_peer:
        accuracy, peer_seconds, iterations = sklearn_mlp_peer(config, result.data)
        rows.append(
            {
                "config": "  sklearn MLPClassifier (peer)",
                "target": row.target,
                "metric": "test accuracy",
                "value": accuracy,
                "epochs": iterations,
                "seconds": round(peer_seconds, 2),
                "capped": False,
                "note": "same split, same hidden layers",
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    print("\n| config | metric | measured | target | reached | epochs | fit wall time (s) | note |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if r.get("value") is None:
            print(
                f"| {r['config']} | {r['metric']} | not run | {r['target']:.1%} | — | — | — | {r['note']} |"
            )
            continue
        reached = "capped run" if r["capped"] else ("yes" if r["value"] >= r["target"] else "no")
        print(
            f"| {r['config']} | {r['metric']} | {r['value']:.2%} | {r['target']:.1%} | {reached} "
            f"| {r['epochs']} | {r['seconds']:.1f} | {r['note']} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=[r.key for r in ROWS], help="rows to run")
    parser.add_argument("--all", action="store_true", help="include the long rows (ResNet-20)")
    parser.add_argument(
        "--max-epochs", type=int, help="cap every config's epochs (the row is marked capped)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override for every config"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip scikit-learn's MLPClassifier")
    parser.add_argument(
        "--output-dir", default="runs/benchmarks", help="parent of the run directories"
    )
    args = parser.parse_args(argv)

    import os

    import tensorflow as tf

    table: list[dict] = []
    print(f"# CPU: {os.cpu_count()} cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    for row in ROWS:
        chosen = row.key in args.only if args.only else (args.all or not row.long)
        if not chosen:
            note = (
                f"long on a CPU: run with --all or --only {row.key}" if row.long else "not selected"
            )
            table.append(
                {
                    "config": row.config,
                    "metric": "test accuracy",
                    "target": row.target,
                    "note": note,
                }
            )
            continue
        print(f"# training {row.config} …", flush=True)
        started = time.perf_counter()
        rows = run_row(row, args)
        table.extend(rows)
        for r in rows:  # as it happens, so an interrupted benchmark keeps what it measured
            print(
                f"# {r['config']}: {r['metric']} {r['value']:.4f} after {r['epochs']} epochs, {r['seconds']:.1f} s fit",
                flush=True,
            )
        print(f"# {row.config}: {time.perf_counter() - started:.0f} s in all", flush=True)
    print_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
