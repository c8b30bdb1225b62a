"""Encoder–decoders on the synthetic tasks: exact match of greedy decoding on held-out examples.

    nice -n 10 python benchmarks/seq2seq_results.py [--minutes 10] [--only addition reversal dates
                                     transformer] [--lengths 10 20 40 80] [--output-dir DIR]

Rows (all synthetic data, ``datasets/seq2seq_tasks.py``):

- addition, 3 digits (``configs/seq2seq_addition.yaml``, GRU + additive attention); held-out
  sums are operand pairs never seen in training. Target ≥ 99 % (keras-io's LSTM: 99 % after
  100 epochs).
- reversal at each of ``--lengths`` with and without attention (``configs/seq2seq_reversal.yaml``;
  target ≥ 95 % at length 40 with attention; the no-attention column shows the bottleneck).
- dates (``configs/seq2seq_dates.yaml``, GRU + general attention): test dates in the 2020s,
  outside the training range. Target ≥ 99.5 %.
- transformer: ``configs/seq2seq_transformer_dates.yaml`` on dates and on addition.

Each run trains for at most ``--minutes`` of wall time (then early stopping or the epoch limit);
exact match is greedy decoding over the whole test split. Prints a table and writes
``seq2seq_results.json`` into ``--json-dir``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from timing import TimeBudget  # benchmarks/timing.py, beside this script

from keras_curriculum.evaluation.generation import sequence_accuracy
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]


def runs(only: list[str], lengths: list[int]) -> list[tuple[str, str, list[str], float | None]]:
    """(row name, config, overrides, target)."""
    rows = []
    if "addition" in only:
        rows.append(("addition 3 digits, GRU + additive", "seq2seq_addition.yaml", [], 0.99))
    if "reversal" in only:
        for length in lengths:
            for attention in ("none", "additive"):
                rows.append(
                    (
                        f"reversal length {length}, GRU, attention {attention}",
                        "seq2seq_reversal.yaml",
                        [f"data.length={length}", f"model.attention={attention}"],
                        0.95 if (length == 40 and attention != "none") else None,
                    )
                )
    if "dates" in only:
        rows.append(("dates, GRU + general", "seq2seq_dates.yaml", [], 0.995))
    if "transformer" in only:
        rows.append(("dates, Transformer", "seq2seq_transformer_dates.yaml", [], 0.995))
        rows.append(
            (
                "addition 3 digits, Transformer",
                "seq2seq_transformer_dates.yaml",
                ["data.name=seq2seq_addition", "name=seq2seq_transformer_addition"],
                0.99,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per run")
    parser.add_argument(
        "--only", nargs="+", default=["addition", "reversal", "dates", "transformer"]
    )
    parser.add_argument("--lengths", nargs="+", type=int, default=[10, 20, 40, 80])
    parser.add_argument("--output-dir", default="runs/benchmarks")
    parser.add_argument("--json-dir", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    results = []
    out = Path(args.json_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, config_file, overrides, target in runs(args.only, args.lengths):
        config = load_config(REPO / "configs" / config_file, overrides)
        cpu, wall = time.process_time(), time.perf_counter()
        result = train(
            config, output_dir=args.output_dir, callbacks=[TimeBudget(60 * args.minutes)]
        )
        row = {
            "task": name,
            "config": config_file,
            "overrides": overrides,
            "parameters": result.metrics["parameters"]["total"],
            "exact_match": sequence_accuracy(result.model, result.data.test),
            "target": target,
            "epochs": result.metrics["epochs"],
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - wall,
            "run_dir": str(result.run_dir),
        }
        results.append(row)
        print(f"{name}: exact match {row['exact_match']:.4f}", flush=True)
        (out / "seq2seq_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n| task | parameters | exact match (held out) | target | epochs | CPU s | wall s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in results:
        target = f"≥ {row['target']:.1%}" if row["target"] else "—"
        print(
            f"| {row['task']} | {row['parameters']:,} | {row['exact_match']:.2%} | {target} | "
            f"{row['epochs']} | {row['cpu_s']:.0f} | {row['wall_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
