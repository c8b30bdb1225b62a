"""The GPU suite: one prepared script for a machine with one or more GPUs (≤ 8 minutes on one
data-centre GPU). It writes one JSON file and prints a table:

1. every config under ``configs/`` (``configs/notes/`` included) built and trained for a few
   steps with ``mixed_precision: auto`` and ``distribution: auto`` — nothing in a config
   changes — on its own data; a TFDS set that this machine has not prepared (it needs a
   download) is skipped, and the row says so;
2. float32 against mixed-precision training throughput for ResNet-20, the CNN, U-Net and the
   Transformer (target ≥ 2× on tensor-core GPUs), each with XLA on and off;
3. all visible GPUs with ``mirrored`` when there are several;
4. the ResNet-20 full recipe (60 epochs) when ``--full-resnet`` is given and time allows.

    python benchmarks/gpu_suite.py                         # on the GPU machine
    python benchmarks/gpu_suite.py --dry-run               # CPU: every config builds and steps once
    python benchmarks/gpu_suite.py --dry-run --configs configs/mlp_digits.yaml

On a machine without a GPU only ``--dry-run`` is meaningful (it is what the tests run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import StepClock  # noqa: E402  (benchmarks/timing.py, beside this script)

from keras_curriculum.errors import CurriculumError  # noqa: E402
from keras_curriculum.training import load_config, prepare  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
THROUGHPUT_CONFIGS = [
    "configs/resnet20_fashion_mnist.yaml",
    "configs/cnn_fashion_mnist.yaml",
    "configs/unet_nuclei.yaml",
    "configs/text_transformer_mr.yaml",
]


def all_configs() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "configs").rglob("*.yaml"))


def _prepare(path: str, overrides: list[str]):
    config = load_config(REPO / path, ["training.verbose=0", *overrides])
    return prepare(config)


def needs_download(path: str) -> bool:
    """Whether the config's data is a TFDS set not yet prepared on this machine."""
    name = load_config(REPO / path).data.name
    if not name.startswith("tfds:"):
        return False
    import tensorflow_datasets as tfds

    return not tfds.builder(name.removeprefix("tfds:")).is_prepared()


def step_config(path: str, steps: int, overrides: list[str]) -> dict:
    """Builds ``path``'s model and trains it ``steps`` steps on its own data."""
    started = time.perf_counter()
    if needs_download(path):
        return {"config": path, "status": "skipped", "reason": "TFDS data not prepared here"}
    try:
        setup = _prepare(path, overrides)
    except (CurriculumError, OSError) as error:
        return {"config": path, "status": "skipped", "reason": str(error).splitlines()[0]}
    model, train = setup.model, setup.data.train
    model.fit(train.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    return {
        "config": path,
        "status": "ok",
        "parameters": model.count_params(),
        "policy": setup.policy,
        "replicas": setup.strategy.num_replicas_in_sync,
        "seconds": round(time.perf_counter() - started, 2),
    }


def throughput(path: str, precision: str, jit: bool, steps: int, repeats: int) -> float:
    """Median examples/s of ``steps`` training steps on in-memory batches (after warm-up)."""
    keras.backend.clear_session()
    setup = _prepare(
        path,
        [
            f"training.mixed_precision={precision}",
            f"training.jit_compile={str(jit).lower()}",
            "training.distribution=auto",
        ],
    )
    batch = next(iter(setup.data.train))
    size = int(tf.nest.flatten(batch[0])[0].shape[0])
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    skip = 5
    rates = []
    for _ in range(repeats):
        clock = StepClock(skip)
        setup.model.fit(
            dataset, epochs=1, steps_per_epoch=skip + steps, verbose=0, callbacks=[clock]
        )
        rates.append(clock.steps * size / (clock.end - clock.start))
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="every config builds, one step")
    parser.add_argument("--configs", nargs="+", help="only these configs (default: all)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-resnet", action="store_true", help="also the 60-epoch recipe")
    parser.add_argument("--json", default="gpu_suite.json", help="where the figures go")
    args = parser.parse_args(argv)

    gpus = tf.config.list_physical_devices("GPU")
    report: dict = {"gpus": [d.name for d in gpus], "dry_run": args.dry_run, "configs": []}
    steps = 1 if args.dry_run else args.steps
    for path in args.configs or all_configs():
        keras.backend.clear_session()
        row = step_config(path, steps, [] if not args.dry_run else ["training.jit_compile=false"])
        report["configs"].append(row)
        detail = row.get("reason") or f"{row['parameters']:,} params, {row['policy']}"
        print(f"{row['status']:7} {path}: {detail}", flush=True)

    if not args.dry_run:
        if not gpus:
            print("no GPU visible: only --dry-run is meaningful here", file=sys.stderr)
            return 2
        report["throughput"] = []
        for path in THROUGHPUT_CONFIGS:
            for jit in (True, False):
                f32 = throughput(path, "float32", jit, args.steps, args.repeats)
                mixed = throughput(path, "mixed_float16", jit, args.steps, args.repeats)
                report["throughput"].append(
                    {"config": path, "xla": jit, "float32": f32, "mixed_float16": mixed}
                )
                print(
                    f"{Path(path).stem} xla={jit}: float32 {f32:,.0f} ex/s, mixed "
                    f"{mixed:,.0f} ex/s, ratio {mixed / f32:.2f}",
                    flush=True,
                )
        if args.full_resnet:
            from keras_curriculum.training import train

            started = time.perf_counter()
            result = train(REPO / "configs/resnet20_fashion_mnist.yaml")
            report["resnet20_full"] = {
                "test": result.test,
                "epochs": result.metrics["epochs"],
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(f"resnet20 full recipe: {report['resnet20_full']}", flush=True)

    failed = [row for row in report["configs"] if row["status"] != "ok"]
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"wrote {args.json}: {len(report['configs']) - len(failed)} configs ok, "
        f"{len(failed)} skipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
