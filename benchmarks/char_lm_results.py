"""Character language models on Shakespeare's held-out plays: bits per character.

    nice -n 10 python benchmarks/char_lm_results.py [--minutes 30]
        [--only gru lstm transformer peers] [--output-dir runs/benchmarks] [--set key=value ...]

Every row is scored on the same split (``datasets.shakespeare``: 36 works train, Julius Caesar,
Twelfth Night and Richard II validation, Macbeth, Much Ado About Nothing and Henry V test).

- The networks train for at most ``--minutes`` of wall time each: ``gru``
  (``configs/char_gru_shakespeare.yaml``, the best network: a GRU(384) with truncated BPTT) and
  the equal-time, equal-parameter pair ``lstm`` and ``transformer``
  (``configs/char_lstm_shakespeare.yaml``, ``configs/char_transformer_shakespeare.yaml``: the
  same shuffled windows, parameter counts within 0.4 %). Bits per character = test
  cross-entropy in nats / ln 2 (the run report's figure; a stateful model reads each test stream
  in order). ``--set key=value`` (repeatable) overrides the networks' configs and joins the
  row's name.
- The compressors see the training text as context: 8·(|c(train + test)| − |c(train)|) / |test|
  for bz2 (level 9), xz (preset 9e) and PPMd orders 6 and 8 (``pyppmd``, 256 MiB).

Prints the table with CPU and wall seconds, a sample of each network at temperatures 0.5 and 1,
and merges its rows into ``char_lm_results.json`` in ``--json-dir`` (by model).
"""

from __future__ import annotations

import argparse
import bz2
import lzma
import os
import time
from pathlib import Path

from tables import write_rows  # benchmarks/tables.py, beside this script
from timing import TimeBudget

from keras_curriculum.datasets import shakespeare
from keras_curriculum.evaluation.generation import compressed_bits_per_character, sample_text
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
NETWORKS = {
    "lstm": "char_lstm_shakespeare.yaml",
    "gru": "char_gru_shakespeare.yaml",
    "transformer": "char_transformer_shakespeare.yaml",
}
TARGET_BPC = 2.2
PROMPT = "MACBETH.\n"


def compressor_rows() -> list[dict]:
    texts = shakespeare.split_works(
        shakespeare.read_works(), shakespeare.VALIDATION_PLAYS, shakespeare.TEST_PLAYS
    )
    train_bytes = texts["train"].encode("latin-1")
    test_bytes = texts["test"].encode("latin-1")
    import pyppmd

    compressors = {
        "bz2 (level 9)": lambda data: bz2.compress(data, 9),
        "xz (preset 9e)": lambda data: lzma.compress(data, preset=9 | lzma.PRESET_EXTREME),
        "PPMd order 6 (pyppmd)": lambda data: pyppmd.compress(
            data, max_order=6, mem_size=256 << 20
        ),
        "PPMd order 8 (pyppmd)": lambda data: pyppmd.compress(
            data, max_order=8, mem_size=256 << 20
        ),
    }
    rows = []
    for name, compress in compressors.items():
        cpu, wall = time.process_time(), time.perf_counter()
        bpc = compressed_bits_per_character(compress, train_bytes, test_bytes)
        rows.append(
            {
                "model": name,
                "bpc": bpc,
                "cpu_s": time.process_time() - cpu,
                "wall_s": time.perf_counter() - wall,
            }
        )
        print(f"{name}: {bpc:.3f} bpc", flush=True)
    return rows


def network_row(name: str, minutes: float, output_dir: Path, overrides: list[str]) -> dict:
    config = load_config(REPO / "configs" / NETWORKS[name], overrides)
    cpu, wall = time.process_time(), time.perf_counter()
    result = train(config, output_dir=output_dir, callbacks=[TimeBudget(60 * minutes)])
    row = {
        "model": f"{name} ({', '.join(overrides)})" if overrides else name,
        "config": NETWORKS[name],
        "overrides": overrides,
        "parameters": result.metrics["parameters"]["total"],
        "bpc": result.metrics["bits_per_character"],
        "test_loss_nats": result.test["loss"],
        "epochs": result.metrics["epochs"],
        "train_s": result.metrics["train_seconds"],
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
        "run_dir": str(result.run_dir),
        "samples": {
            str(t): sample_text(result.model, PROMPT, 300, temperature=t, seed=0)
            for t in (0.5, 1.0)
        },
    }
    print(f"{name}: {row['bpc']:.3f} bpc after {row['epochs']} epochs", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget per network")
    parser.add_argument("--only", nargs="+", default=["gru", "lstm", "transformer", "peers"])
    parser.add_argument("--output-dir", default="runs/benchmarks")
    parser.add_argument("--json-dir", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    rows = []
    if "peers" in args.only:
        rows += compressor_rows()
    for name in NETWORKS:
        if name in args.only:
            rows.append(network_row(name, args.minutes, Path(args.output_dir), args.overrides))
    print(f"\nShakespeare, held-out plays; target ≤ {TARGET_BPC} bpc; {os.cpu_count()} CPUs")
    print("| model | parameters | bits per character (test) | epochs | CPU s | wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['model']} | {row.get('parameters', '—')} | {row['bpc']:.3f} | "
            f"{row.get('epochs', '—')} | {row['cpu_s']:.0f} | {row['wall_s']:.0f} |"
        )
    for row in rows:
        for temperature, text in row.get("samples", {}).items():
            print(f"\n--- {row['model']}, temperature {temperature} ---\n{text}")
    write_rows(Path(args.json_dir) / "char_lm_results.json", rows, key="model")


if __name__ == "__main__":
    main()
