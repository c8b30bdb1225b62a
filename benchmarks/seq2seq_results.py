"""Encoder–decoders on the synthetic tasks: exact match of greedy decoding on held-out examples.

    nice -n 10 python benchmarks/seq2seq_results.py [--minutes 10] [--threads N]
        [--only addition reversal dates dates-decade transformer] [--lengths 10 20 40 80]
        [--attention none general additive] [--output-dir DIR] [--set key=value ...]

Rows (all synthetic data, ``datasets/seq2seq_tasks.py``):

- addition, 3 digits (``configs/seq2seq_addition.yaml``, GRU + additive attention); held-out
  sums are operand pairs never seen in training. Target ≥ 99 % (keras-io's LSTM: 99 % after
  100 epochs).
- reversal at each of ``--lengths`` with each ``--attention`` (``configs/seq2seq_reversal.yaml``;
  target ≥ 95 % at length 40 with attention; the no-attention column shows the bottleneck).
  By default ``none`` and ``general``: Luong's score is a matrix product, while the additive
  score materialises a (batch, target, source, units) tensor, three times the step time at
  length 40 on a CPU.
- dates (``configs/seq2seq_dates.yaml``, GRU + general attention): test dates in 2022–2026,
  years training never sees. Target ≥ 99.5 %. ``dates-decade`` holds out the whole 2020s
  instead (the decoder has never written "202").
- transformer: ``configs/seq2seq_transformer_dates.yaml`` on dates and on addition.

``--set key=value`` (repeatable) overrides every selected row's config; the overrides join the
row's name, so variants are kept beside the configs' own rows.

Each run trains for at most ``--minutes`` of wall time (then early stopping or the epoch limit);
exact match is greedy decoding over the whole test split. Prints a table and merges each row
into ``seq2seq_results.json`` in ``--json-dir`` as it finishes (by task, so parts run in
separate processes add up; ``--threads 1`` for two side by side on a small machine).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import tensorflow as tf
from tables import write_rows  # benchmarks/tables.py, beside this script
from timing import TimeBudget

from keras_curriculum.evaluation.generation import sequence_accuracy
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]


def runs(
    only: list[str], lengths: list[int], attentions: list[str]
) -> list[tuple[str, str, list[str], float | None]]:
    """(row name, config, overrides, target)."""
    rows = []
    if "addition" in only:
        rows.append(("addition 3 digits, GRU + additive", "seq2seq_addition.yaml", [], 0.99))
    if "reversal" in only:
        for length in lengths:
            for attention in attentions:
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
    if "dates-decade" in only:
        rows.append(
            (
                "dates, 2020s held out, GRU + general",
                "seq2seq_dates.yaml",
                ["data.validation_years=[2030, 2034]", "data.test_years=[2020, 2029]"],
                None,
            )
        )
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
    parser.add_argument(
        "--attention", nargs="+", default=["none", "general"], help="the reversal rows' attention"
    )
    parser.add_argument("--output-dir", default="runs/benchmarks")
    parser.add_argument("--json-dir", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TensorFlow threads (0: all; 1 for side-by-side runs)",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    results = []
    for name, config_file, overrides, target in runs(args.only, args.lengths, args.attention):
        if args.overrides:
            name = f"{name} ({', '.join(args.overrides)})"
            overrides = [*overrides, *args.overrides]
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
            "minutes": args.minutes,
            "epochs": result.metrics["epochs"],
            "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - wall,
            "run_dir": str(result.run_dir),
        }
        results.append(row)
        print(f"{name}: exact match {row['exact_match']:.4f}", flush=True)
        write_rows(Path(args.json_dir) / "seq2seq_results.json", [row], key="task")
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
