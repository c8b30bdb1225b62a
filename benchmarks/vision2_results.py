"""Vision II results: VGG, Inception and DenseNet beside the CNN and ResNet-20 on Fashion-MNIST,
and test-time augmentation on finished runs.

    python benchmarks/vision2_results.py architectures                   # full configs (hours on a CPU)
    python benchmarks/vision2_results.py architectures --max-epochs 3 --set data.train_size=10000
    python benchmarks/vision2_results.py tta RUN_DIR [RUN_DIR ...] --tta flip,shift
    python benchmarks/vision2_results.py transfer [--seeds 3] [--source-epochs 5] [--steps 600]

``architectures`` trains each config with the shared trainer (as ``train -c CONFIG`` does) and
prints one table: parameters, test accuracy against the 92 % target, epochs run and seconds of
``fit`` per epoch (validation included). A row capped by ``--max-epochs`` or trained on a
``--set data.train_size`` subset says so and never counts as reaching its target.

``tta`` evaluates finished runs on their test split without and with test-time augmentation
(the same code as ``keras-curriculum evaluate RUN_DIR --tta …``).

``transfer`` trains ``cnn_fashion_mnist`` on Fashion-MNIST classes 0–4 only (the source task,
``--source-epochs``), then learns classes 5–9 from 1 % and 10 % of their training labels (300
and 3,000 images, stratified, no validation split) in three arms, each ``--steps`` gradient
steps of 32 images (rounded up to whole epochs) and scored on all 5,000 test images of 5–9:

* **scratch**: the same architecture, randomly initialised, Adam 0.001;
* **frozen**: the source run's network up to ``block2_dropout`` under a new head like the
  CNN's own (flatten → dense 128 → softmax, dropout 0.5), the backbone frozen, Adam 0.001;
* **fine-tuned**: the same head, trained frozen for the first half of the steps, then the
  whole network at Adam 0.0001 (BatchNorm kept in inference mode), as ``training.phases``.

A last row does the same from the same backbone on a new domain: ``mnist_5k`` digits with
100 labels per class (1,000 images), tested on its 1,000 test digits. Seeds change the label
subsets, the heads' initialisation and the batch order; the backbone is trained once.

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


TRANSFER_SOURCE_CLASSES = [0, 1, 2, 3, 4]
TRANSFER_TARGET_CLASSES = [5, 6, 7, 8, 9]
TRANSFER_TARGETS = {  # row: (data section, training images)
    "fashion 5–9, 1 % labels": ({"name": "fashion_mnist", "classes": TRANSFER_TARGET_CLASSES}, 300),
    "fashion 5–9, 10 % labels": (
        {"name": "fashion_mnist", "classes": TRANSFER_TARGET_CLASSES},
        3000,
    ),
    "mnist_5k, 100 labels per class": ({"name": "mnist_5k"}, 1000),
}
TRANSFER_ARMS = ("scratch", "frozen", "fine_tuned")


def transfer(args) -> list[dict]:
    import math

    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import train

    quiet = ["training.verbose=0", "training.callbacks.tensorboard=false"]
    source_config = load_config(
        REPO / "configs" / ARCHITECTURES["cnn"],
        [*quiet, f"data.classes={TRANSFER_SOURCE_CLASSES}", f"training.epochs={args.source_epochs}",
         "name=transfer_source_fashion_0_4",
         *([f"data.train_size={args.source_train_size}"] if args.source_train_size else [])],
    )  # fmt: skip
    print(f"# training the source network on classes {TRANSFER_SOURCE_CLASSES} …", flush=True)
    source = train(source_config, output_dir=args.output_dir)
    print(f"# source: test accuracy {source.test['accuracy']:.2%} ({source.run_dir})", flush=True)
    architecture = {"name": source_config.model.name, **source_config.model.arguments}
    head = {"head": "flatten", "dense_units": [128], "dropout": 0.5}
    transfer_model = {
        "name": "transfer", "backbone": {"run": str(source.run_dir), "up_to": "block2_dropout"},
        **head,
    }  # fmt: skip
    rows = []
    for target, (data, size) in TRANSFER_TARGETS.items():
        epochs = max(2, math.ceil(args.steps / math.ceil(size / 32)))  # two phases need two
        for seed in range(args.seeds):
            for arm in TRANSFER_ARMS:
                rate = {"name": "adam", "learning_rate": 0.001}
                training = {"verbose": 0, "optimizer": rate, "callbacks": {"tensorboard": False}}
                if arm == "scratch":
                    model, training["epochs"] = architecture, epochs
                elif arm == "frozen":
                    model = transfer_model
                    training["phases"] = [{"epochs": epochs, "backbone": "frozen"}]
                else:
                    model = transfer_model
                    training["phases"] = [
                        {"epochs": math.ceil(epochs / 2), "backbone": "frozen"},
                        {"epochs": epochs - math.ceil(epochs / 2), "backbone": "trainable",
                         "learning_rate": 0.0001},
                    ]  # fmt: skip
                config = load_config(
                    data={
                        "name": f"transfer_{arm}",
                        "seed": seed,
                        "model": model,
                        "data": {
                            **data,
                            "train_size": size,
                            "batch_size": 32,
                            "validation_split": 0,
                        },
                        "training": training,
                    }  # fmt: skip
                )
                result = train(config, output_dir=args.output_dir)
                rows.append({
                    "target": target, "arm": arm, "seed": seed, "train_images": size,
                    "epochs": epochs, "test_accuracy": result.test["accuracy"],
                    "train_seconds": result.metrics["train_seconds"],
                    "source_test_accuracy": source.test["accuracy"],
                    "source_run": str(source.run_dir),
                })  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    return rows


def print_transfer(rows: list[dict]) -> None:
    import numpy as np
    from tables import print_table  # benchmarks/tables.py, beside this script

    def cell(target: str, arm: str) -> str:
        chosen = [r for r in rows if r["target"] == target and r["arm"] == arm]
        accuracy = 100 * np.array([r["test_accuracy"] for r in chosen])
        seconds = np.mean([r["train_seconds"] for r in chosen])
        return f"{accuracy.mean():.2f} ± {accuracy.std():.2f} % ({len(chosen)}×, {seconds:.0f} s)"

    targets = dict.fromkeys(r["target"] for r in rows)
    print_table(
        ("target", *TRANSFER_ARMS),
        [(target, *(cell(target, arm) for arm in TRANSFER_ARMS)) for target in targets],
    )


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
    p = parts.add_parser("transfer", help="pretrain on classes 0–4, learn 5–9 from few labels")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--source-epochs", type=int, default=5)
    p.add_argument("--source-train-size", type=int, help="a stratified subset (quick runs)")
    p.add_argument("--steps", type=int, default=600, help="gradient steps of each target arm")
    p.add_argument("--output-dir", default="runs/benchmarks")
    args = parser.parse_args(argv)

    import tensorflow as tf

    print(f"# CPU: {os.cpu_count()} cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    rows = {"architectures": architectures, "tta": tta, "transfer": transfer}[args.part](args)
    if args.part == "architectures":
        print_architectures(rows)
    if args.part == "transfer":
        print_transfer(rows)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
