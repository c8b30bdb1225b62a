"""Trains the segmentation configs on the CPU and prints what they reach on their test splits.

    nice -n 10 python benchmarks/segmentation_results.py            # all four runs
    nice -n 10 python benchmarks/segmentation_results.py --only unet_shapes

The nuclei runs need `keras-curriculum data prepare nuclei` first. Each figure comes from the
run's segmentation report (metrics.json), computed over every pixel of the test split; the
wall time is the whole run (data, training, evaluation, report) on this machine's CPU.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from keras_curriculum.training import load_config, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

# (config, metric from the segmentation report, target or None when only reported)
RUNS = [
    ("unet_nuclei", "foreground_iou", 0.75),
    ("fcn_nuclei", "foreground_iou", None),
    ("unet_shapes", "mean_iou", 0.90),
    ("unet_fashion_mnist_masks", "foreground_iou", 0.95),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="run only these configs (repeatable)")
    parser.add_argument("--output-dir", help="where the runs go (default: a temporary folder)")
    args = parser.parse_args()
    output_dir = Path(args.output_dir or tempfile.mkdtemp(prefix="segmentation-benchmark-"))
    rows = []
    for name, metric, target in RUNS:
        if args.only and name not in args.only:
            continue
        config = load_config(CONFIGS / f"{name}.yaml", ["training.verbose=2"])
        started = time.perf_counter()
        result = train(config, output_dir=output_dir)
        wall = time.perf_counter() - started
        report = result.metrics["segmentation"]
        rows.append((name, metric, report[metric], target, report, result.metrics["epochs"], wall))
        print(
            f"{name}: {metric} {report[metric]:.4f} in {wall:.0f} s ({result.run_dir})", flush=True
        )

    print()
    print("| config | metric | test value | target | reached | mean IoU | epochs | CPU wall time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, metric, value, target, report, epochs, wall in rows:
        reached = "—" if target is None else ("yes" if value >= target else "no")
        target_text = "reported beside unet" if target is None else f"≥ {target:.2f}"
        print(
            f"| {name} | {metric} | {value:.4f} | {target_text} | {reached} | {report['mean_iou']:.4f}"
            f" | {epochs} | {wall / 60:.1f} min |"
        )


if __name__ == "__main__":
    main()
