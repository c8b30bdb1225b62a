"""Vision II results: VGG, Inception and DenseNet beside the CNN and ResNet-20 on Fashion-MNIST,
and test-time augmentation on finished runs.

    python benchmarks/vision2_results.py architectures                   # full configs (hours on a CPU)
    python benchmarks/vision2_results.py architectures --max-epochs 3 --set data.train_size=10000
    python benchmarks/vision2_results.py tta RUN_DIR [RUN_DIR ...] --tta flip,shift

``architectures`` trains each config with the shared trainer (as ``train -c CONFIG`` does) and
prints one table: parameters, test accuracy against the 92 % target, epochs run and seconds of
``fit`` per epoch (validation included). A row capped by ``--max-epochs`` or trained on a
``--set data.train_size`` subset says so and never counts as reaching its target.

``tta`` evaluates finished runs on their test split without and with test-time augmentation
(the same code as ``keras-curriculum evaluate RUN_DIR --tta …``).

``--json PATH`` also writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ARCHITECTURES = {
    "cnn": "cnn_fashion_mnist.yaml",
    "vgg": "vgg_fashion_mnist.yaml",
    "inception": "inception_fashion_mnist.yaml",
    "densenet": "densenet_fashion_mnist.yaml",
    "resnet20": "resnet20_fashion_mnist.yaml",
}
TARGET = 0.92


def architectures(args) -> list[dict]:
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import train

    rows = []
    for key in args.only or list(ARCHITECTURES):
        path = REPO / "configs" / ARCHITECTURES[key]
        overrides = ["training.verbose=0", "training.callbacks.tensorboard=false", *args.set]
        config = load_config(path, overrides)
        capped = args.max_epochs is not None and config.training.epochs > args.max_epochs
        if capped:
            config = load_config(path, [*overrides, f"training.epochs={args.max_epochs}"])
        print(f"# training {ARCHITECTURES[key]} …", flush=True)
        result = train(config, output_dir=args.output_dir)
        epochs = len(result.history.get("loss", []))
        rows.append(
            {
                "model": key,
                "config": ARCHITECTURES[key],
                "parameters": result.metrics["parameters"]["total"],
                "test_accuracy": result.test["accuracy"],
                "epochs": epochs,
                "seconds_per_epoch": result.metrics["train_seconds"] / max(epochs, 1),
                "reduced": capped or bool(args.set),
                "run_dir": str(result.run_dir),
            }
        )
        print_architectures(rows[-1:])
    return rows


def print_architectures(rows: list[dict]) -> None:
    print("\n| model | parameters | test accuracy | ≥ 92 % | epochs | CPU s/epoch | run |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        reached = (
            "reduced run" if r["reduced"] else ("yes" if r["test_accuracy"] >= TARGET else "no")
        )
        print(
            f"| {r['model']} | {r['parameters']:,} | {r['test_accuracy']:.2%} | {reached} "
            f"| {r['epochs']} | {r['seconds_per_epoch']:.1f} | {r['run_dir']} |"
        )


def tta(args) -> list[dict]:
    from keras_curriculum.training.trainer import evaluate

    transforms = [t for t in args.tta.split(",") if t]
    rows = []
    for run_dir in args.run_dirs:
        plain = evaluate(run_dir)
        augmented = evaluate(run_dir, tta=transforms)
        rows.append(
            {
                "run_dir": run_dir,
                "tta": ",".join(transforms),
                "accuracy": plain["accuracy"],
                "tta_accuracy": augmented["accuracy"],
                "loss": plain["loss"],
                "tta_loss": augmented["loss"],
            }
        )
    print("\n| run | test accuracy | with TTA | test loss | with TTA | transforms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['run_dir']} | {r['accuracy']:.2%} | {r['tta_accuracy']:.2%} "
            f"| {r['loss']:.4f} | {r['tta_loss']:.4f} | {r['tta']} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parts = parser.add_subparsers(dest="part", required=True)
    p = parts.add_parser("architectures", help="train the architecture configs")
    p.add_argument("--only", nargs="+", choices=list(ARCHITECTURES))
    p.add_argument("--max-epochs", type=int, help="cap every config's epochs (marked reduced)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output-dir", default="runs/benchmarks")
    p = parts.add_parser("tta", help="evaluate finished runs with and without TTA")
    p.add_argument("run_dirs", nargs="+")
    p.add_argument("--tta", default="flip,shift")
    args = parser.parse_args(argv)

    import tensorflow as tf

    print(f"# CPU: {os.cpu_count()} cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    rows = architectures(args) if args.part == "architectures" else tta(args)
    if args.part == "architectures":
        print_architectures(rows)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
