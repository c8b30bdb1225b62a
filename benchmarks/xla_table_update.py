"""What one sparse update of word2vec's two embedding tables costs, with and without XLA.

    python benchmarks/xla_table_update.py
    python benchmarks/xla_table_update.py --vocabulary 9003 90003 --rows 16 4096

A word2vec step touches a few thousand rows of two |V| × 100 tables. Without XLA, TensorFlow
applies the gradient (``IndexedSlices``) in place with a scatter, at a cost that follows the
rows touched. Inside an XLA-compiled step (``jit_compile: true``, what the word2vec configs
use for their faster gathers and dot products) the updated tables come out as new buffers, so
every step pays for a copy of both tables: a cost that follows |V|, not the rows touched.

For each vocabulary size and number of rows this prints the median milliseconds of one step
(gather the rows, a gradient, ``scatter_sub`` into both tables) over ``--repeats`` timings of
``--steps`` steps each, compiled and not. The figures explain part of the word2vec speed row
of the README.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

DIM = 100


def make_step(words: tf.Variable, contexts: tf.Variable, jit_compile: bool):
    @tf.function(jit_compile=jit_compile)
    def step(ids):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.gather(words, ids) * tf.gather(contexts, ids))
        gradients = tape.gradient(loss, [words, contexts])
        for table, gradient in zip((words, contexts), gradients, strict=True):
            table.scatter_sub(tf.IndexedSlices(gradient.values * 1e-3, gradient.indices))
        return loss

    return step


def time_step(step, ids: tf.Tensor, steps: int, repeats: int) -> float:
    step(ids)  # trace and compile
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            step(ids)
        timings.append((time.perf_counter() - started) / steps * 1e3)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocabulary", type=int, nargs="+", default=[9003, 90003])
    parser.add_argument("--rows", type=int, nargs="+", default=[16, 4096])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    print("| vocabulary | rows a step | XLA ms/step | no XLA ms/step |")
    print("| --- | --- | --- | --- |")
    for size in args.vocabulary:
        words = tf.Variable(rng.uniform(-0.005, 0.005, (size, DIM)).astype("float32"))
        contexts = tf.Variable(rng.uniform(-0.005, 0.005, (size, DIM)).astype("float32"))
        compiled, plain = make_step(words, contexts, True), make_step(words, contexts, False)
        for rows in args.rows:
            ids = tf.constant(rng.integers(1, size, rows), tf.int32)
            with_xla = time_step(compiled, ids, args.steps, args.repeats)
            without = time_step(plain, ids, args.steps, args.repeats)
            print(f"| {size:,} | {rows:,} | {with_xla:.2f} | {without:.2f} |")


if __name__ == "__main__":
    main()
