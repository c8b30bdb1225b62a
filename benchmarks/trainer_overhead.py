"""What the shared trainer costs over a hand-written ``compile`` + ``fit``.

Both sides train the same model (an MLP on Fashion-MNIST by default) on the same
``datasets.load`` pipelines with the same batch size, optimizer, loss and metrics, in one
process, alternating (trainer first on even repeats, plain first on odd ones). Two figures:

- fit: the wall time of ``model.fit`` alone (the trainer's ``train_seconds``, which includes
  its callbacks: CSV log, TensorBoard, best-model checkpoint, backup for --resume);
- whole: data loading, building, compiling, fitting, the test evaluation and ``model.save``;
  the trainer also writes the rest of its run directory (reports, plots, logs).

Targets: trainer / plain ≤ 1.03 on fit, ≤ 1.25 on the whole run. Two ratios are printed for
each: of the medians, and the median of each round's paired ratio (the two sides of a round
run back to back, so a drift in the machine's speed moves both).

    nice -n 10 python benchmarks/trainer_overhead.py            # 2 epochs × 5 repeats
    python benchmarks/trainer_overhead.py --epochs 1 --repeats 3 --train-size 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_curriculum import models, objectives  # noqa: E402, I001
from keras_curriculum.training import load_config, runtime, train  # noqa: E402
from keras_curriculum.training.trainer import load_data  # noqa: E402


def experiment(epochs: int, train_size: int | None):
    data = {"name": "fashion_mnist", "batch_size": 128, "validation_split": 0.1}
    if train_size:
        data["train_size"] = train_size
    return load_config(
        data={
            "name": "trainer_overhead",
            "seed": 0,
            "model": {"name": "mlp", "hidden_units": [256, 128]},
            "data": data,
            "training": {
                "epochs": epochs,
                "optimizer": {"name": "adam", "learning_rate": 0.001},
                "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"],
                "mixed_precision": "float32",
                "distribution": "none",
                "verbose": 0,
            },
        }
    )


def run_trainer(config, output_dir: str) -> tuple[float, float, float]:
    started = time.perf_counter()
    result = train(config, output_dir=output_dir)
    whole = time.perf_counter() - started
    return result.metrics["train_seconds"], whole, result.test["accuracy"]


def run_plain(config, output_dir: str) -> tuple[float, float, float]:
    """The same experiment written by hand, the way a Keras tutorial would."""
    started = time.perf_counter()
    runtime.seed_everything(config.seed, deterministic=False)
    data = load_data(config)
    model = models.build(config.model.name, metadata=data.info.metadata(), **config.model.arguments)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.training.optimizer.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    fit_started = time.perf_counter()
    model.fit(
        data.train,
        validation_data=data.validation,
        epochs=config.training.epochs,
        verbose=0,
        shuffle=False,
    )
    fit = time.perf_counter() - fit_started
    accuracy = model.evaluate(data.test, return_dict=True, verbose=0)["accuracy"]
    model.save(os.path.join(output_dir, "plain.keras"))
    return fit, time.perf_counter() - started, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--train-size", type=int, default=None, help="subset of the 60k (default: all)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first")
    args = parser.parse_args()

    config = experiment(args.epochs, args.train_size)
    objectives.check_names(config.training.loss, config.training.metrics)
    times: dict[str, dict[str, list[float]]] = {
        side: {"fit": [], "whole": [], "accuracy": []} for side in ("trainer", "plain")
    }
    with tempfile.TemporaryDirectory() as output_dir:
        for round_index in range(args.warmup + args.repeats):
            order = ["trainer", "plain"] if round_index % 2 == 0 else ["plain", "trainer"]
            for side in order:
                keras.backend.clear_session()
                fit, whole, accuracy = (
                    run_trainer(config, output_dir)
                    if side == "trainer"
                    else run_plain(config, output_dir)
                )
                counted = round_index >= args.warmup
                print(
                    f"{'round' if counted else 'warm-up'} {round_index}: {side:7} fit {fit:6.2f} s"
                    f"  whole {whole:6.2f} s  test accuracy {accuracy:.4f}",
                    flush=True,
                )
                if counted:
                    for key, value in (("fit", fit), ("whole", whole), ("accuracy", accuracy)):
                        times[side][key].append(value)

    print()
    print(
        f"MLP 256-128 on Fashion-MNIST, batch 128, {args.epochs} epochs, median of {args.repeats}"
    )
    print(f"{'':10} {'trainer':>10} {'plain':>10} {'ratio':>8} {'paired':>8}  target")
    for key, target in (("fit", "≤ 1.03"), ("whole", "≤ 1.25")):
        trainer = statistics.median(times["trainer"][key])
        plain = statistics.median(times["plain"][key])
        paired = statistics.median(
            t / p for t, p in zip(times["trainer"][key], times["plain"][key], strict=True)
        )
        print(
            f"{key + ' (s)':10} {trainer:10.2f} {plain:10.2f} {trainer / plain:8.3f}"
            f" {paired:8.3f}  {target}"
        )


if __name__ == "__main__":
    main()
