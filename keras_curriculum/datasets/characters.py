"""Next-character windows from the project's other texts, or from any text file, for the
character-level language models (notes 001 §25.1–2; ``shakespeare`` is the reference set).

Sources (``corpus``, or ``path``):

- ``lee``: the Lee corpus, 300 Australian news texts (gensim's test data; one per line);
- ``wiki_sample``: 106 Wikipedia articles as gensim's ``WikiCorpus`` tokenises them (lower-case
  words and spaces, no digits or punctuation);
- ``movie_review_polarity``: the 10,568 review sentences of ``datasets.text`` (Hutto & Gilbert
  2014), one per line, without their ratings;
- ``path``: your own UTF-8 text file, or a folder whose files are read in name order.

The text is a sequence of lines, held out whole at the end: the last ``test_fraction`` of its
characters (rounded to whole lines) is the test text, the ``validation_fraction`` before it the
validation text, and the rest the training text, so no window of a held-out line is trained on.
Windows, the ``<UNK>`` vocabulary and the truncated-BPTT layout are those of
:mod:`keras_curriculum.datasets.shakespeare`.
"""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.shakespeare import (
    character_source,
    character_vocabulary,
    language_model_description,
)
from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.datasets.text import read_movie_reviews
from keras_curriculum.datasets.word2vec_corpus import prepared_file, text_paths
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

NAME = "characters"
CORPORA = ("lee", "wiki_sample", "movie_review_polarity")


def read_text(corpus: str | None, path: str | None) -> str:
    """The whole text of ``corpus`` or of the file(s) at ``path`` (exactly one of them)."""
    if (corpus is None) == (path is None):
        raise ConfigError("data.corpus", f"give a corpus ({', '.join(CORPORA)}) or a path")
    if path is not None:
        files = text_paths(path)
        try:
            return "".join(file.read_text(encoding="utf-8") for file in files)
        except UnicodeDecodeError as error:
            raise ConfigError("data.path", f"not UTF-8 text ({error.reason})") from None
    if corpus == "lee":
        return prepared_file("lee", "lee_background.txt").read_text(encoding="utf-8")
    if corpus == "wiki_sample":
        return prepared_file("wiki_sample", "wiki_sample.txt").read_text(encoding="utf-8")
    if corpus == "movie_review_polarity":
        return "".join(f"{sentence}\n" for sentence in read_movie_reviews()[0])
    raise ConfigError("data.corpus", f"unknown corpus {corpus!r} (have: {', '.join(CORPORA)})")


def split_lines(text: str, validation_fraction: float, test_fraction: float) -> dict[str, str]:
    """{"train", "validation", "test"}: the text cut between lines, the held-out parts last."""
    for field, fraction in (
        ("validation_fraction", validation_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0 < fraction < 1:
            raise ConfigError(f"data.{field}", f"expected a fraction in (0, 1), got {fraction}")
    if validation_fraction + test_fraction >= 1:
        raise ConfigError("data.test_fraction", "validation and test leave no training text")
    lines = text.splitlines(keepends=True)
    ends = np.cumsum([len(line) for line in lines])
    cut_test = int(np.searchsorted(ends, (1 - test_fraction) * len(text)))
    cut_validation = int(
        np.searchsorted(ends, (1 - test_fraction - validation_fraction) * len(text))
    )
    texts = {
        "train": "".join(lines[: cut_validation + 1]),
        "validation": "".join(lines[cut_validation + 1 : cut_test + 1]),
        "test": "".join(lines[cut_test + 1 :]),
    }
    empty = [name for name, part in texts.items() if not part]
    if empty:
        raise ConfigError("data.corpus", f"too few lines to hold out a {empty[0]} text")
    return texts


def _texts(corpus, path, validation_fraction, test_fraction, vocabulary_size):
    texts = split_lines(read_text(corpus, path), validation_fraction, test_fraction)
    return texts, character_vocabulary(texts["train"], vocabulary_size)


@register_dataset(NAME)
def characters(
    *,
    corpus: str | None = None,
    path: str | None = None,
    sequence_length: int = 100,
    stride: int | None = None,
    validation_fraction: float = 0.05,
    test_fraction: float = 0.05,
    consecutive_batch: int | None = None,
    vocabulary_size: int | None = None,
) -> Source:
    """Next-character windows from a packaged corpus or a text file; the last lines held out.

    Args:
        corpus: ``lee``, ``wiki_sample`` or ``movie_review_polarity`` (prepared into the cache).
        path: a UTF-8 text file, or a folder of them (instead of ``corpus``).
        sequence_length: characters per window (inputs and targets alike).
        stride: spacing of the training windows (default ``sequence_length``: no overlap).
        validation_fraction: share of the characters held out for validation (whole lines).
        test_fraction: share held out for testing (whole lines, at the end of the text).
        consecutive_batch: order every split for stateful training with batches of this size.
        vocabulary_size: fix the vocabulary's length (``shakespeare.character_vocabulary``).
    """
    texts, vocabulary = _texts(corpus, path, validation_fraction, test_fraction, vocabulary_size)
    return character_source(texts, vocabulary, sequence_length, stride, consecutive_batch)


@register_metadata(NAME)
def characters_metadata(
    *,
    corpus: str | None = None,
    path: str | None = None,
    sequence_length: int = 100,
    validation_fraction: float = 0.05,
    test_fraction: float = 0.05,
    vocabulary_size: int | None = None,
) -> Description:
    # Reading the text gives the vocabulary; no window is cut.
    _, vocabulary = _texts(corpus, path, validation_fraction, test_fraction, vocabulary_size)
    return language_model_description(sequence_length, vocabulary)
