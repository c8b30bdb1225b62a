"""Word2vec against gensim on wiki_sample: quality, speed and memory, in one run.

    python benchmarks/word2vec_results.py                 # 5 and 15 epochs, skip-gram + CBOW
    python benchmarks/word2vec_results.py --epochs 5 --architectures skipgram --no-memory
    python benchmarks/word2vec_results.py --seeds 1       # one run of each (quicker)

Both train on the same prepared corpus (`keras-curriculum data prepare wiki_sample wordsim353
questions_words`) with the same settings: vector_size 100, window 5, negative 5, min_count 5,
sample 1e-3, 2 gensim workers. Both are scored by this library's evaluation (which the tests
check against gensim's `evaluate_word_pairs` / `evaluate_word_analogies`).

Speed: words/s = corpus tokens × epochs / training seconds (gensim: `train()`; ours: `fit`,
the vocabulary pass excluded for both), as wall-clock and per CPU-second (the sum over all
threads, robust to other load on a shared machine). Memory: peak RSS of a fresh process that
builds the vocabulary and streams one epoch of batches over the corpus and over the corpus
repeated 4×.

Each row repeats both trainings with ``--seeds`` seeds (ours: the config's ``seed``; gensim:
its ``seed``, though 2 workers make gensim's runs vary anyway), alternating gensim and ours,
and prints the mean ± standard deviation of the scores and the median of the per-repeat
words/s ratios: on a corpus this small, WordSim353 Spearman moves by a few hundredths from
seed to seed.

Targets: WordSim353 Spearman ≥ gensim's at the same epochs (skip-gram); ≥ 1/3 of gensim's
words/s.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras

from keras_curriculum.datasets.word2vec_corpus import prepared_file
from keras_curriculum.evaluation import word_vectors as wv

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"skipgram": "word2vec_skipgram_wiki.yaml", "cbow": "word2vec_cbow_wiki.yaml"}


def evaluate(vectors: wv.WordVectors) -> dict[str, float]:
    similarity = wv.evaluate_word_pairs(vectors, prepared_file("wordsim353", "wordsim353.tsv"))
    analogies = wv.evaluate_word_analogies(
        vectors, prepared_file("questions_words", "questions-words.txt")
    )
    return {
        "spearman": similarity["spearman"],
        "analogy": analogies["accuracy"],
        "covered": analogies["covered"],
    }


def run_gensim(architecture: str, epochs: int, seed: int = 0) -> dict[str, float]:
    from gensim.models import Word2Vec

    path = prepared_file("wiki_sample", "wiki_sample.txt")
    sentences = [line.split() for line in path.read_text().splitlines()]
    model = Word2Vec(
        vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, workers=2,
        sg=int(architecture == "skipgram"), seed=seed + 1,
    )  # fmt: skip
    model.build_vocab(sentences)
    wall, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    words = model.corpus_total_words * epochs
    vectors = wv.WordVectors(list(model.wv.index_to_key), model.wv.vectors)
    return {"seconds": wall, "words_per_s": words / wall, "words_per_cpu_s": words / cpu,
            **evaluate(vectors)}  # fmt: skip


class FitClock(keras.callbacks.Callback):
    """Wall and CPU seconds of ``fit`` alone."""

    def on_train_begin(self, logs=None):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def on_train_end(self, logs=None):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_ours(architecture: str, epochs: int, output_dir: Path, seed: int = 0) -> dict[str, float]:
    from keras_curriculum.reports.embeddings import trained_vectors
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import train

    config = load_config(
        REPO / "configs" / CONFIGS[architecture],
        [f"training.epochs={epochs}", f"seed={seed}", "training.verbose=0", "training.callbacks.tensorboard=false",
         "training.callbacks.backup_and_restore=false"],
    )  # fmt: skip
    clock = FitClock()
    result = train(config, output_dir=output_dir, callbacks=[clock])
    words = result.data.info.extras["corpus_words"] * epochs
    vectors = trained_vectors(result.model, result.data.info.extras["vocabulary"])
    return {"seconds": clock.wall, "words_per_s": words / clock.wall,
            "words_per_cpu_s": words / clock.cpu, **evaluate(vectors)}  # fmt: skip


def memory_probe(path: str) -> None:
    """(In a fresh process.) Vocabulary + one streamed epoch of batches; prints peak RSS."""
    from keras_curriculum import datasets

    data = datasets.load(
        "text_corpus", path=path, batch_size=32, validation_split=0, test_split=0,
        shuffle_buffer=256,
    )  # fmt: skip
    steps = math.ceil(data.info.num_examples["train"] / data.batch_size)  # one epoch
    batches = sum(1 for _ in data.train.take(steps))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"batches": batches, "peak_rss_mib": peak_mib}))


def measure_memory() -> dict[str, dict[str, float]]:
    text = prepared_file("wiki_sample", "wiki_sample.txt").read_text()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for times in (1, 4):
            path = Path(tmp) / f"wiki_x{times}.txt"
            path.write_text(text * times)
            output = subprocess.run(
                [sys.executable, __file__, "--memory-probe", str(path)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            results[f"{times}x"] = json.loads(output.strip().splitlines()[-1])
    return results


def summarise(runs: list[dict[str, float]]) -> dict[str, str]:
    """Mean ± std of the scores (std only with 2+ runs; a diverged run, whose score is NaN,
    is counted and left out), medians of the times and rates."""

    trained = [run for run in runs if math.isfinite(run["spearman"])]
    failed = f" ({len(runs) - len(trained)} of {len(runs)} diverged)" if trained != runs else ""

    def spread(key: str, scale: float = 1.0, digits: int = 3) -> str:
        values = [scale * run[key] for run in trained]
        text = f"{statistics.mean(values):.{digits}f}" if values else "—"
        if len(values) > 1:
            text += f" ± {statistics.stdev(values):.{digits}f}"
        return text + failed

    median = {k: statistics.median(run[k] for run in trained or runs) for k in ("seconds",
              "words_per_s", "words_per_cpu_s")}  # fmt: skip
    return {
        "spearman": spread("spearman"),
        "analogy": spread("analogy", 100, 1),
        "seconds": f"{median['seconds']:.1f}",
        "words_per_s": f"{median['words_per_s']:,.0f}",
        "words_per_cpu_s": f"{median['words_per_cpu_s']:,.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[5, 15])
    parser.add_argument(
        "--architectures", nargs="+", default=["skipgram", "cbow"], choices=sorted(CONFIGS),
        help="CBOW runs at the first --epochs value only",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="repeats of each row (default 3)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probe")
    parser.add_argument("--memory-probe", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        return memory_probe(args.memory_probe)

    rows = []
    with tempfile.TemporaryDirectory() as runs:
        for architecture in args.architectures:
            for epochs in args.epochs if architecture == "skipgram" else args.epochs[:1]:
                repeats = []
                for seed in range(args.seeds):
                    gensim = run_gensim(architecture, epochs, seed)
                    ours = run_ours(architecture, epochs, Path(runs), seed)
                    repeats.append((gensim, ours))
                    print(f"done: {architecture} {epochs} epochs seed {seed}: Spearman "
                          f"{gensim['spearman']:.3f} / {ours['spearman']:.3f}, words/s ratio "
                          f"{ours['words_per_s'] / gensim['words_per_s']:.2f}",
                          file=sys.stderr, flush=True)  # fmt: skip
                rows.append((architecture, epochs, repeats))

    print(f"{args.seeds} seed(s) per row: mean ± std of the scores, median of the ratios\n")
    print("| model | epochs | WordSim353 Spearman (gensim / ours) | analogies % (gensim / ours; "
          "covered) | train s (gensim / ours) | words/s (gensim / ours, ratio) | "
          "words per CPU-s (gensim / ours, ratio) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for architecture, epochs, repeats in rows:
        g = summarise([gensim for gensim, _ in repeats])
        o = summarise([ours for _, ours in repeats])
        # a run stopped by TerminateOnNaN did not train all its epochs: no speed figure
        timed = [(a, b) for a, b in repeats if math.isfinite(b["spearman"])] or repeats
        ratio = statistics.median(b["words_per_s"] / a["words_per_s"] for a, b in timed)
        cpu_ratio = statistics.median(b["words_per_cpu_s"] / a["words_per_cpu_s"] for a, b in timed)
        print(
            f"| {architecture} | {epochs} | {g['spearman']} / {o['spearman']} "
            f"| {g['analogy']} / {o['analogy']}; {repeats[0][0]['covered']} / "
            f"{repeats[0][1]['covered']} | {g['seconds']} / {o['seconds']} "
            f"| {g['words_per_s']} / {o['words_per_s']}, {ratio:.2f} "
            f"| {g['words_per_cpu_s']} / {o['words_per_cpu_s']}, {cpu_ratio:.2f} |"
        )
    if not args.no_memory:
        memory = measure_memory()
        print("\n| corpus | chunks streamed | peak RSS MiB |\n| --- | --- | --- |")
        for name, row in memory.items():
            print(f"| wiki_sample {name} | {row['batches'] * 32} | {row['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
