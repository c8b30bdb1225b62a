"""Sentence polarity (movie_review_polarity, Pang & Lee MR): our sequence models against Kim (2014).

    nice -n 10 python benchmarks/text_results.py [--folds N] [--models lstm gru bilstm transformer]
                                 [--epochs N] [--peer-folds N | --no-peers] [--output-dir DIR]

Cross-validation as in Kim (2014), Table 2: a seeded stratified 10-fold partition of the 10,568
sentences (``data.fold``); each model trains on nine folds (10 % of them held out for early
stopping) and is tested on the tenth. ``--folds N`` runs only the first N of the ten folds
(the same test folds for every model), for machines where ten do not fit; ``--start-fold K``
starts at fold K instead. Peers trained on the
same folds (all nine training folds): scikit-learn TF-IDF (unigrams + bigrams) + logistic
regression (C = 10), and multinomial naive Bayes on unigram + bigram counts; they take seconds,
so ``--peer-folds 10`` runs them on all ten folds even when the networks run on fewer.

Prints mean ± standard deviation of test accuracy over the folds run, the target, and the
process CPU time and wall time per fold, then Kim's published MR figures for comparison.
Writes ``text_results.json`` into the output directory; ``--combine DIR …`` prints one table
from several such runs (folds run in separate sessions).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from keras_curriculum import datasets
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

REPO = Path(__file__).resolve().parents[1]
TOTAL_FOLDS = 10
MODELS = {  # name: (config, target mean accuracy)
    "lstm": ("text_lstm_mr.yaml", 0.76),
    "gru": ("text_gru_mr.yaml", 0.76),
    "bilstm": ("text_bilstm_mr.yaml", 0.76),
    "transformer": ("text_transformer_mr.yaml", 0.75),
    "simple_rnn": ("text_simple_rnn_mr.yaml", None),
}
KIM_2014_MR = [  # Kim (2014), "Convolutional Neural Networks for Sentence Classification", Table 2
    ("CNN-rand", 76.1),
    ("CNN-static (word2vec)", 81.0),
    ("NBSVM (Wang & Manning 2012)", 79.4),
    ("MNB (Wang & Manning 2012)", 79.0),
]


def fold_texts(fold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fold's training sentences (train + validation) and test sentences, as the models see them."""
    source = datasets.load_source("movie_review_polarity", fold=fold, folds=TOTAL_FOLDS, seed=0)
    x_train = np.concatenate([source.train[0], source.validation[0]])
    y_train = np.concatenate([source.train[1], source.validation[1]])
    return x_train, y_train, source.test[0], source.test[1]


def peers(fold: int) -> dict[str, tuple[float, float, float]]:
    """name → (test accuracy, CPU seconds, wall seconds) of the scikit-learn baselines."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    x_train, y_train, x_test, y_test = fold_texts(fold)
    pipelines = {
        "TF-IDF 1-2-grams + logistic regression (C=10)": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=2000)
        ),
        "multinomial naive Bayes, 1-2-gram counts": make_pipeline(
            CountVectorizer(ngram_range=(1, 2)), MultinomialNB()
        ),
    }
    results = {}
    for name, pipeline in pipelines.items():
        cpu, wall = time.process_time(), time.perf_counter()
        pipeline.fit(x_train, y_train)
        accuracy = float((pipeline.predict(x_test) == y_test).mean())
        results[name] = (accuracy, time.process_time() - cpu, time.perf_counter() - wall)
    return results


def train_fold(model: str, fold: int, output_dir: Path, epochs: int | None) -> dict[str, float]:
    overrides = [f"data.fold={fold}", f"data.folds={TOTAL_FOLDS}", "training.verbose=0"]
    if epochs is not None:
        overrides.append(f"training.epochs={epochs}")
    config = load_config(REPO / "configs" / MODELS[model][0], overrides)
    cpu, wall = time.process_time(), time.perf_counter()
    result = train(config, output_dir=output_dir / f"fold{fold}")
    return {
        "fold": fold,
        "accuracy": float(result.test["accuracy"]),
        "epochs": int(result.metrics["epochs"]),
        "cpu_seconds": time.process_time() - cpu,
        "wall_seconds": time.perf_counter() - wall,
        "run_dir": str(result.run_dir),
    }


def summary(
    name: str,
    accuracies: list[float],
    target: float | None,
    cpu: list[float],
    wall: list[float],
    note: str = "",
) -> str:
    mean, std = 100 * np.mean(accuracies), 100 * np.std(accuracies)
    target_text = f"≥ {100 * target:.0f} %" if target else "reported"
    verdict = "" if target is None else ("met" if mean >= 100 * target else "NOT met")
    return (
        f"| {name} | {mean:.1f} ± {std:.1f} | {len(accuracies)} | {target_text} {verdict} "
        f"| {np.mean(cpu):.1f} | {np.mean(wall):.1f} | {note} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folds", type=int, default=TOTAL_FOLDS, help="run the first N of the 10 folds"
    )
    parser.add_argument(
        "--models",
        nargs="*",
        default=["lstm", "gru", "bilstm", "transformer"],
        choices=sorted(MODELS),
    )
    parser.add_argument(
        "--start-fold", type=int, default=0, help="first fold to run (split a run over sessions)"
    )
    parser.add_argument("--epochs", type=int, help="override every config's training.epochs")
    parser.add_argument("--no-peers", action="store_true", help="skip the scikit-learn peers")
    parser.add_argument(
        "--peer-folds",
        type=int,
        help="run the (fast) peers on the first N folds (default: --folds)",
    )
    parser.add_argument("--output-dir", default=str(REPO / "runs" / "benchmarks" / "text"))
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="DIR",
        help="train nothing: print one table from the text_results.json of earlier runs",
    )
    args = parser.parse_args()
    if args.combine:
        combined: dict[str, list[dict]] = {}
        for directory in args.combine:
            measured = json.loads((Path(directory) / "text_results.json").read_text())
            for name, rows in measured.items():
                done = {row.get("fold") for row in combined.get(name, [])}
                # A fold measured twice counts once (the first directory given wins).
                fresh = [row for row in rows if row.get("fold") is None or row["fold"] not in done]
                combined.setdefault(name, []).extend(fresh)
        print_table(combined, f"combined from {', '.join(args.combine)}")
        return
    output_dir = Path(args.output_dir)
    folds = range(args.start_fold, min(args.start_fold + args.folds, TOTAL_FOLDS))

    results: dict[str, list[dict]] = {}
    peer_folds = range(min(args.peer_folds or len(folds), TOTAL_FOLDS))
    for fold in [] if args.no_peers else peer_folds:
        for name, (accuracy, cpu, wall) in peers(fold).items():
            row = {"fold": fold, "accuracy": accuracy, "cpu_seconds": cpu, "wall_seconds": wall}
            results.setdefault(name, []).append(row)
    output_dir.mkdir(parents=True, exist_ok=True)
    for fold in folds:
        for model in args.models:
            outcome = train_fold(model, fold, output_dir / model, args.epochs)
            results.setdefault(model, []).append(outcome)
            print(f"fold {fold} {model}: accuracy {outcome['accuracy']:.4f} after {outcome['epochs']} epochs, "
                  f"{outcome['cpu_seconds']:.0f} s CPU, {outcome['wall_seconds']:.0f} s wall", flush=True)  # fmt: skip
            (output_dir / "text_results.json").write_text(json.dumps(results, indent=2))

    print_table(
        results,
        f"models on folds {folds.start}–{folds.stop - 1}, peers on the first {len(peer_folds)}",
    )


def print_table(results: dict[str, list[dict]], description: str) -> None:
    print(
        f"\nmovie_review_polarity, seeded stratified {TOTAL_FOLDS}-fold partition; {description}\n"
    )
    print(
        "| model | test accuracy % (mean ± std) | folds | target | CPU s / fold | wall s / fold | epochs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, rows in results.items():
        target = MODELS[name][1] if name in MODELS else None
        epochs = ", ".join(str(r["epochs"]) for r in rows) if "epochs" in rows[0] else ""
        print(summary(name, [r["accuracy"] for r in rows], target,
                      [r["cpu_seconds"] for r in rows], [r["wall_seconds"] for r in rows], epochs))  # fmt: skip
    print("\nKim (2014), Table 2, MR (10-fold CV), accuracy %:")
    for name, accuracy in KIM_2014_MR:
        print(f"  {name:32} {accuracy:.1f}")


if __name__ == "__main__":
    main()
