"""Word2vec epochs on one endless stream against a stream restarted at every epoch.

    python benchmarks/endless_stream.py
    python benchmarks/endless_stream.py --architecture cbow --epochs 5 --repeats 5

The word2vec source gives the trainer an endless stream, pass after pass over the corpus, and
the trainer runs one pass's worth of steps an epoch (``Source.epoch_size``), so the tf.data
pipeline runs on from one epoch into the next. The baseline is the same examples as one
finite pass per epoch: Keras then makes a new iterator at every epoch, and the pipeline starts
again (encoding, the parallel map, the shuffle buffer) while training waits.

Both train the config's model from scratch with the same settings, alternating, in one
process; this prints the wall and CPU seconds of each ``fit`` and the median ratio
(restarted / endless: above 1 means the endless stream is faster), and, with ``--gaps``, every
pause of more than 0.3 s between two executions of ``steps_per_execution`` steps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from word2vec_results import CONFIGS, REPO

from keras_curriculum import datasets
from keras_curriculum.datasets import word2vec_corpus as corpus
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import prepare


class Gaps(keras.callbacks.Callback):
    """Prints the pauses of more than 0.3 s between two executions (with ``--gaps``)."""

    def __init__(self, label: str, show: bool):
        super().__init__()
        self.label, self.show = label, show

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.last = epoch, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.show and now - self.last > 0.3:
            print(f"  {self.label}: {now - self.last:.2f} s before step {batch + 1} of epoch "
                  f"{self.epoch + 1}", file=sys.stderr)  # fmt: skip
        self.last = now


def restarted_stream(config, data) -> tf.data.Dataset:
    """The same examples and batches, as one finite pass over the corpus per iteration."""
    options = config.data.options
    extras = data.info.extras
    stream = corpus.example_stream(
        [corpus.prepared_file("wiki_sample", "wiki_sample.txt")],
        extras["vocabulary"],
        np.asarray(extras["word_counts"]),
        architecture=extras["architecture"],
        window=extras["window"],
        negatives=extras["negatives"],
        sample=options["sample"],
        chunk_size=data.info.input_shape[0],
        seed=config.seed,
    )
    return datasets._pipeline(
        stream, batch_size=data.batch_size, shuffle=True, seed=config.seed,
        shuffle_buffer=config.data.shuffle_buffer, cache=False,
    )  # fmt: skip


def timed_fit(config, mode: str, show_gaps: bool) -> tuple[float, float]:
    setup = prepare(config)
    if mode == "endless":
        dataset, steps = setup.data.train, setup.steps_per_epoch
    else:
        dataset, steps = restarted_stream(config, setup.data), None
    wall, cpu = time.perf_counter(), time.process_time()
    setup.model.fit(
        dataset, epochs=config.training.epochs, steps_per_epoch=steps, verbose=0,
        callbacks=[Gaps(mode, show_gaps)], shuffle=False,
    )  # fmt: skip
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--architecture", choices=sorted(CONFIGS), default="skipgram")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gaps", action="store_true", help="print the pauses in training")
    args = parser.parse_args()
    config = load_config(REPO / "configs" / CONFIGS[args.architecture],
                         [f"training.epochs={args.epochs}"])  # fmt: skip

    # A finite stream of unknown length ends each epoch by running out; Keras warns of it.
    warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
    runs: dict[str, list[tuple[float, float]]] = {"endless": [], "restarted": []}
    for repeat in range(args.repeats):
        for mode in runs:
            runs[mode].append(timed_fit(config, mode, args.gaps))
            wall, cpu = runs[mode][-1]
            print(f"repeat {repeat + 1}, {mode}: {wall:.2f} s wall, {cpu:.2f} s CPU",
                  file=sys.stderr, flush=True)  # fmt: skip

    ratios = [r[0] / e[0] for e, r in zip(runs["endless"], runs["restarted"], strict=True)]
    print(f"{args.architecture}, {args.epochs} epochs, {args.repeats} repeats (median)")
    print("| stream | fit wall s | fit CPU s |\n| --- | --- | --- |")
    for mode, values in runs.items():
        walls, cpus = zip(*values, strict=True)
        print(f"| {mode} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} |")
    print(f"restarted / endless wall time, median of the repeats: {statistics.median(ratios):.2f} "
          f"({', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip


if __name__ == "__main__":
    main()
