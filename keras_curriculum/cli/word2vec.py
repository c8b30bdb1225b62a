"""``keras-curriculum neighbours RUN_DIR WORD`` and ``keras-curriculum analogy RUN_DIR A B C``.

Both read the run's exported ``vectors.txt`` (word2vec text format). ``analogy king man
woman`` answers "man is to king as woman is to ?" by 3CosAdd: the words nearest to
king − man + woman.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_curriculum.errors import CurriculumError


def run_vectors(run_dir: str):
    from keras_curriculum.evaluation.word_vectors import load_word2vec_format

    path = Path(run_dir) / "vectors.txt"
    if not path.exists():
        raise CurriculumError(f"{run_dir} has no vectors.txt (not a finished word2vec run)")
    return load_word2vec_format(path)


def print_matches(vectors, positive: list[str], negative: list[str], topn: int) -> None:
    try:
        matches = vectors.most_similar(positive, negative, topn=topn)
    except KeyError as error:
        raise CurriculumError(error.args[0]) from None
    for word, score in matches:
        print(f"{word:24} {score:.4f}")


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1 (``--top -5`` is an error, not "everything")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _neighbours_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("word")
    parser.add_argument(
        "--top", type=positive_int, default=10, help="how many neighbours (default 10)"
    )


def neighbours(args: argparse.Namespace) -> int:
    print_matches(run_vectors(args.run_dir), [args.word.lower()], [], args.top)
    return 0


def _analogy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument(
        "words", nargs=3, metavar="WORD", help="A B C: A − B + C, e.g. king man woman"
    )
    parser.add_argument("--top", type=positive_int, default=5, help="how many answers (default 5)")


def analogy(args: argparse.Namespace) -> int:
    a, b, c = (w.lower() for w in args.words)
    print_matches(run_vectors(args.run_dir), [a, c], [b], args.top)
    return 0


# (name, help, add_arguments(parser), handler(args) -> exit status)
COMMANDS = [
    ("neighbours", "nearest words (cosine) in a word2vec run", _neighbours_arguments, neighbours),
    (
        "analogy",
        "A − B + C in a word2vec run (king man woman → queen?)",
        _analogy_arguments,
        analogy,
    ),
]
