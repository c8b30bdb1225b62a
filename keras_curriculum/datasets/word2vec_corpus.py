"""Word2vec training examples streamed from a text corpus (notes 001 §23, 002 §9.1).

Word2vec never sees the whole pair list: like the original ``word2vec.c``, it walks the corpus
sentence by sentence and makes its examples on the fly. This module does the same with
``tf.data``, so memory stays flat however large the corpus is:

1. **Tokenisation**: lower case, runs of letters (``[^\\p{L}]+`` separates words).
2. **Vocabulary** (one counting pass): words seen at least ``min_count`` times, at most
   ``max_vocab`` of the most frequent, sorted by descending count. Index 0 is the padding
   entry ``""`` (as in ``keras.layers.TextVectorization``); words are 1..V. Unknown words are
   dropped from the sentences, as in word2vec.
3. **Subsampling of frequent words** (Mikolov et al. 2013, the formula of ``word2vec.c`` and
   gensim's ``sample``): with ``t = sample · total`` a word seen ``f`` times is kept with
   probability ``min(1, (sqrt(f / t) + 1) · t / f)``.
4. **Dynamic window**: each kept position draws its window ``b`` uniformly from 1..window;
   its contexts are the words at distance 1..b *in the same line*: a line of the corpus is a
   sentence (or document), and no window crosses it.
5. **Negatives**: ``negatives`` words per example, drawn from the unigram distribution raised
   to the power 0.75; a negative that is the true word itself is drawn once more (word2vec.c
   skips it), which leaves a collision only with probability p², not p.

Each line becomes one vectorised ``tf.data`` step (``[n, 2·window]`` candidate positions,
masked; the line's examples shuffled), and ``rebatch`` cuts the stream into chunks of
``chunk_size`` examples: one element is a chunk, so tf.data's per-element cost is paid once
per chunk; ``datasets.load`` shuffles the chunks in a buffer and batches them (a step sees
``batch_size × chunk_size`` examples). Examples are ``({"target", "context", "negatives"}, labels)`` with labels
``[1, 0, …, 0]`` (the true word, then the negatives). For ``skipgram`` the target is the centre
word and ``context`` one word of its window; for ``cbow`` ``context`` is the whole window
(``2·window`` ids, 0-padded) and the centre word is the one to predict. The random draws are
seeded and differ from pass to pass. For training, the passes follow each other in one
endless stream (as ``word2vec.c`` runs its iterations), so the pipeline never stops and
refills between epochs; an epoch is one pass's worth of chunks.

Corpora: ``wiki_sample`` (106 Wikipedia articles, 452,944 tokens) and ``lee`` (300 news texts)
from the gensim wheel, prepared into the cache by ``keras-curriculum data prepare``; any text
file or folder of text files with ``text_corpus`` (``path``); any TensorFlow Datasets text
feature with ``tfds_corpus`` (``dataset``, ``split``, ``feature``; on a connected machine). The
evaluation sets ``wordsim353`` and ``questions_words`` are prepared like the corpora.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from keras_curriculum.datasets.cache import (
    cached_path,
    not_prepared,
    read_from_package,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    model_options,
    register_metadata,
    register_preparer,
)
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import register_dataset

GENSIM = "gensim==4.4.0"
WIKI_ARCHIVE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
PADDING = ""
TASK = "word_embedding"
Architecture = Literal["skipgram", "cbow"]


# ---------------------------------------------------------------------------------------------
# Preparing the corpora and evaluation sets shipped in the gensim wheel.


def gensim_test_file(name: str) -> bytes:
    """A file of ``gensim/test/test_data``: from the installed gensim, else from its wheel."""
    try:
        from gensim.test.utils import datapath

        return Path(datapath(name)).read_bytes()
    except (ImportError, FileNotFoundError):
        return read_from_package(GENSIM, f"gensim/test/test_data/{name}")


def _prepare_copy(dataset: str, member: str, filename: str) -> Path:
    path = cached_path(dataset, filename)
    return path if path.exists() else write_atomically(path, gensim_test_file(member))


@register_preparer("lee")
def prepare_lee() -> Path:
    """``lee_background.cor``: 300 Australian news texts, one per line."""
    return _prepare_copy("lee", "lee_background.cor", "lee_background.txt")


@register_preparer("wordsim353")
def prepare_wordsim353() -> Path:
    """WordSim353 (Finkelstein et al. 2002): 353 word pairs with human similarity judgements."""
    return _prepare_copy("wordsim353", "wordsim353.tsv", "wordsim353.tsv")


@register_preparer("questions_words")
def prepare_questions_words() -> Path:
    """Mikolov et al.'s 19,544 analogy questions (``a b c d``: a is to b as c is to d)."""
    return _prepare_copy("questions_words", "questions-words.txt", "questions-words.txt")


@register_preparer("wiki_sample")
def prepare_wiki_sample() -> Path:
    """The 106-article Wikipedia extract, one article per line as gensim's ``WikiCorpus``
    tokenises it (lower case, 2–15 letters, markup removed: 452,944 tokens)."""
    path = cached_path("wiki_sample", "wiki_sample.txt")
    if path.exists():
        return path
    try:
        from gensim.corpora import WikiCorpus
    except ImportError:
        raise CurriculumError("preparing wiki_sample needs gensim (pip install gensim)") from None
    archive = path.with_suffix(".xml.bz2")
    write_atomically(archive, gensim_test_file(WIKI_ARCHIVE))
    articles = WikiCorpus(str(archive), dictionary={}, processes=1).get_texts()
    text = "".join(" ".join(tokens) + "\n" for tokens in articles)
    archive.unlink()
    return write_atomically(path, text.encode("utf-8"))


def prepared_file(dataset: str, filename: str) -> Path:
    path = cached_path(dataset, filename)
    if not path.exists():
        raise not_prepared(dataset, path)
    return path


# ---------------------------------------------------------------------------------------------
# Tokenisation and vocabulary.


def tokenize(lines: tf.Tensor) -> tf.RaggedTensor:
    """Lines of text → lower-case runs of letters (invalid UTF-8 becomes a separator)."""
    text = tf.strings.unicode_transcode(lines, "UTF-8", "UTF-8", errors="replace")
    text = tf.strings.lower(text, encoding="utf-8")
    return tf.strings.split(tf.strings.regex_replace(text, r"[^\p{L}]+", " "))


def text_lines(paths: Iterable[Path]) -> tf.data.Dataset:
    """Every line of every file, streamed (each line is one sentence or document)."""
    return tf.data.TextLineDataset([str(p) for p in paths])


Corpus = list[Path] | tf.data.Dataset


def as_lines(corpus: Corpus) -> tf.data.Dataset:
    """Text files, or a dataset of strings already (one sentence or document each)."""
    return corpus if isinstance(corpus, tf.data.Dataset) else text_lines(corpus)


def count_words(corpus: Corpus) -> collections.Counter:
    """One streaming pass: how often each token occurs."""
    counts: collections.Counter = collections.Counter()
    for tokens in as_lines(corpus).batch(256).map(tokenize):
        counts.update(tokens.flat_values.numpy().tolist())
    return counts


def build_vocabulary(
    counts: collections.Counter, *, min_count: int = 5, max_vocab: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times (the ``max_vocab`` most frequent), sorted by
    descending count then alphabetically; index 0 is the padding entry. Returns the words and
    their counts (count 0 for the padding)."""
    kept = [(word, n) for word, n in counts.items() if n >= min_count]
    kept.sort(key=lambda item: (-item[1], item[0]))
    if max_vocab is not None:
        kept = kept[:max_vocab]
    words = [PADDING] + [w.decode("utf-8") if isinstance(w, bytes) else w for w, _ in kept]
    return words, np.array([0] + [n for _, n in kept], dtype=np.int64)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Mikolov's subsampling: P(keep) = min(1, (sqrt(f/t) + 1)·t/f), t = sample · total.
    ``sample = 0`` keeps every word."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.where(counts > 0, 1.0, 0.0)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.where(counts > 0, np.minimum(keep, 1.0), 0.0)


def negative_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P(word) ∝ count^0.75 (0 for the padding entry)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    weights[0] = 0.0
    return weights / weights.sum()


def alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias method (Vose's construction): O(1) exact draws from a discrete law.

    Column i of n holds the mass n·p_i ≤ 1 of word i, topped up to 1 with part of an
    ``alias`` word's mass. A draw picks a column uniformly, then a coin: word i with
    probability ``keep[i]``, else ``alias[i]``. (word2vec.c uses a 10⁸-entry unigram table
    for the same purpose; this is exact and takes 2·n numbers.)
    """
    n = len(probabilities)
    scaled = np.asarray(probabilities, dtype=np.float64) * n
    keep, alias = np.ones(n), np.arange(n)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        keep[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return keep, alias  # columns left in either list are full (keep 1, up to rounding)


# ---------------------------------------------------------------------------------------------
# Examples: one vectorised step per line.


class ExampleMaker:
    """Turns a line of word ids into word2vec examples (subsample → window → negatives)."""

    def __init__(
        self,
        counts: np.ndarray,
        *,
        architecture: Architecture,
        window: int,
        negatives: int,
        sample: float,
    ):
        self.architecture = architecture
        self.window = window
        self.negatives = negatives
        self.keep = tf.constant(keep_probabilities(counts, sample), tf.float32)
        # Words 1..V only (the padding is never drawn): column i is word i + 1.
        keep, alias = alias_table(negative_distribution(counts)[1:])
        self.alias_keep = tf.constant(keep, tf.float32)
        self.alias = tf.constant(alias + 1, tf.int32)
        self.offsets = tf.constant(
            [o for o in range(-window, window + 1) if o != 0], dtype=tf.int32
        )

    def subsample(self, ids: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        draws = tf.random.stateless_uniform(tf.shape(ids), seed)
        return tf.boolean_mask(ids, draws < tf.gather(self.keep, ids))

    def windows(self, ids: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``[n, 2·window]`` context ids (0 where outside the drawn window or the line)."""
        n = tf.shape(ids)[0]
        spans = tf.random.stateless_uniform([n], seed, 1, self.window + 1, dtype=tf.int32)
        positions = tf.range(n)[:, None] + self.offsets[None, :]
        valid = (
            (tf.abs(self.offsets)[None, :] <= spans[:, None]) & (positions >= 0) & (positions < n)
        )
        context = tf.where(valid, tf.gather(ids, tf.clip_by_value(positions, 0, n - 1)), 0)
        return context, valid

    def draw_words(self, count: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """``count`` draws from unigram^0.75 (alias method: a column, then a coin)."""
        column_seed, coin_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        size = tf.shape(self.alias)[0]
        columns = tf.random.stateless_uniform([count], column_seed, 0, size, dtype=tf.int32)
        coins = tf.random.stateless_uniform([count], coin_seed)
        keep = coins < tf.gather(self.alias_keep, columns)
        return tf.where(keep, columns + 1, tf.gather(self.alias, columns))

    def sample_negatives(self, count: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """``[count, negatives]`` draws from unigram^0.75."""
        return tf.reshape(self.draw_words(count * self.negatives, seed), [count, self.negatives])

    def __call__(self, seed: tf.Tensor, ids: tf.Tensor):
        seeds = tf.random.experimental.stateless_split(tf.stack([seed, seed // 7 + 1]), 5)
        ids = self.subsample(ids, seeds[0])
        context, valid = self.windows(ids, seeds[1])
        if self.architecture == "skipgram":
            target = tf.boolean_mask(tf.broadcast_to(ids[:, None], tf.shape(valid)), valid)
            context = tf.boolean_mask(context, valid)
        else:
            has_context = tf.reduce_any(valid, axis=1)
            target = tf.boolean_mask(ids, has_context)
            context = tf.boolean_mask(context, has_context)
        count = tf.shape(target)[0]
        negatives = self.sample_negatives(count, seeds[2])
        true_word = context if self.architecture == "skipgram" else target
        collisions = tf.where(tf.equal(negatives, true_word[:, None]))  # [m, 2] positions
        redrawn = self.draw_words(tf.shape(collisions, out_type=tf.int32)[0], seeds[4])
        negatives = tf.tensor_scatter_nd_update(negatives, collisions, redrawn)
        labels = tf.tile(tf.one_hot([0], self.negatives + 1), [count, 1])
        # Shuffled within the line, so a chunk is not a run of neighbouring positions.
        order = tf.argsort(tf.random.stateless_uniform([count], seeds[3]))
        x = {"target": target, "context": context, "negatives": negatives}
        return {k: tf.gather(v, order) for k, v in x.items()}, tf.gather(labels, order)


def encoder(words: list[str]):
    """Lines → int32 ids of known words (unknown words dropped)."""
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(words[1:]), tf.range(1, len(words), dtype=tf.int32)
        ),
        default_value=0,
    )

    def encode(line: tf.Tensor) -> tf.Tensor:
        ids = table.lookup(tokenize(line[None]).flat_values)
        return tf.boolean_mask(ids, ids > 0)

    return encode


def example_stream(
    corpus: Corpus,
    words: list[str],
    counts: np.ndarray,
    *,
    architecture: Architecture,
    window: int,
    negatives: int,
    sample: float,
    chunk_size: int,
    seed: int,
    rerandomize: bool = True,
    endless: bool = False,
) -> tf.data.Dataset:
    """The examples of every line of ``corpus`` in chunks of ``chunk_size``, drawn afresh at
    each iteration (the last, incomplete chunk of a pass is dropped). ``endless``: pass after
    pass over the corpus, each with fresh draws, in one stream that never restarts."""
    make = ExampleMaker(
        counts, architecture=architecture, window=window, negatives=negatives, sample=sample
    )
    lines = as_lines(corpus).map(encoder(words), num_parallel_calls=tf.data.AUTOTUNE)
    lines = lines.filter(lambda ids: tf.size(ids) > 1)
    if endless:
        lines = lines.repeat()
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=rerandomize)
    examples = tf.data.Dataset.zip(seeds, lines).map(make, num_parallel_calls=tf.data.AUTOTUNE)
    chunks = examples.rebatch(chunk_size, drop_remainder=True)
    if endless:  # (a corpus with no example would loop forever: corpus_source checks first)
        chunks = chunks.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY))
    return chunks


# ---------------------------------------------------------------------------------------------
# The registered corpora.


@dataclass(frozen=True)
class CorpusOptions:
    """The options of every corpus (``data:`` keys), besides the corpus's own.

    ``architecture`` is the model's (``model.architecture``): the examples differ for
    skip-gram and CBOW, so ``datasets.load`` hands it over from the model section.
    """

    architecture: Architecture = "skipgram"
    min_count: int = 5
    max_vocab: int | None = None
    window: int = 5
    negatives: int = 5
    sample: float = 1e-3
    chunk_size: int = 128
    test_chunks: int = 32

    def check(self) -> None:
        for name in ("window", "negatives", "min_count", "chunk_size", "test_chunks"):
            if getattr(self, name) < 1:
                raise ConfigError(f"data.{name}", f"expected at least 1, got {getattr(self, name)}")


# The ``Args:`` lines of the options every corpus takes (appended to each corpus's own).
CORPUS_ARGS = """\
    min_count: keep words seen at least this many times.
    max_vocab: keep at most this many of the most frequent words (default: all).
    window: the largest context distance; each position draws its window from 1..window.
    negatives: negative words drawn per example (unigram^0.75).
    sample: the subsampling threshold of frequent words (0 keeps every word).
    chunk_size: examples per tf.data element (``data.batch_size`` counts chunks).
    test_chunks: chunks in the fixed test split (for the loss evaluation only).
    seed: seeds the subsampling, windows and negatives."""


def count_element(count: tf.Tensor, *_element) -> tf.Tensor:
    return count + 1


def corpus_vocabulary(corpus: Corpus, options: CorpusOptions) -> tuple[list[str], np.ndarray, int]:
    """The vocabulary (padding first), its words' counts and the corpus's token count."""
    options.check()
    counts = count_words(corpus)
    words, word_counts = build_vocabulary(
        counts, min_count=options.min_count, max_vocab=options.max_vocab
    )
    if len(words) < 3:
        raise CurriculumError(f"the corpus has fewer than 2 words seen {options.min_count}+ times")
    return words, word_counts, int(sum(counts.values()))


def corpus_description(words: list[str], options: CorpusOptions) -> Description:
    """What the word2vec model takes from the data: the vocabulary size and the architecture."""
    return Description(
        input_shape=(options.chunk_size,),
        task=TASK,
        extras={
            "vocabulary_size": len(words),
            "architecture": options.architecture,
            "window": options.window,
            "negatives": options.negatives,
        },
    )


def corpus_source(corpus: Corpus, options: CorpusOptions, *, seed: int) -> Source:
    """A word2vec :class:`Source` over text files or a dataset of strings.

    An element is a chunk of ``chunk_size`` examples (tf.data's per-element cost is paid once
    per chunk), so ``data.batch_size`` counts chunks: a step sees batch_size × chunk_size
    examples. The train split is an endless stream, pass after pass over the corpus with
    fresh draws (never cached), so its pipeline runs on from one epoch into the next instead
    of restarting; an epoch is as many chunks as one pass gives, counted by one pass at load
    time. The test split is a fixed draw of ``test_chunks`` chunks from the corpus, for the
    trainer's loss evaluation only: word2vec has no held-out objective; the real evaluation
    is the word-similarity and analogy report.
    """
    words, word_counts, corpus_words = corpus_vocabulary(corpus, options)
    stream = dict(
        architecture=options.architecture, window=options.window, negatives=options.negatives,
        sample=options.sample, chunk_size=options.chunk_size,
    )  # fmt: skip
    one_pass = example_stream(
        corpus, words, word_counts, seed=seed + 1, rerandomize=False, **stream
    )
    chunks_per_pass = int(one_pass.reduce(np.int64(0), count_element))
    if chunks_per_pass == 0:
        raise CurriculumError(
            f"the corpus yields fewer than {options.chunk_size} examples (chunk_size)"
        )
    test = tf.data.Dataset.from_tensor_slices(next(iter(one_pass.batch(options.test_chunks))))
    train = example_stream(corpus, words, word_counts, seed=seed, endless=True, **stream)
    return corpus_description(words, options).source(
        train=train,
        test=test,
        cache=False,
        epoch_size=chunks_per_pass,
        extras={
            "vocabulary": words,
            "word_counts": word_counts.tolist(),
            "corpus_words": corpus_words,
        },
    )


def register_corpus(name: str):
    """Registers dataset ``name`` from ``corpus(**its own options) -> Corpus``: the loader
    takes the corpus's options, then every :class:`CorpusOptions` field, then ``seed``; its
    description (``datasets.metadata``) counts the corpus's words to size the vocabulary, and
    draws no example."""

    def decorator(corpus: Callable[..., Corpus]):
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [
            *inspect.signature(corpus).parameters.values(),
            *(inspect.Parameter(f.name, keyword, default=f.default, annotation=f.type)
              for f in fields(CorpusOptions)),
            inspect.Parameter("seed", keyword, default=0, annotation="int"),
        ]  # fmt: skip
        signature = inspect.Signature(parameters, return_annotation="Source")
        option_names = {f.name for f in fields(CorpusOptions)}

        def split(arguments: dict[str, Any]) -> tuple[Corpus, CorpusOptions, int]:
            bound = signature.bind(**arguments)
            bound.apply_defaults()
            values = dict(bound.arguments)
            seed = values.pop("seed")
            options = CorpusOptions(**{k: values.pop(k) for k in option_names})
            return corpus(**values), options, seed

        def loader(**arguments: Any) -> Source:
            documents, options, seed = split(arguments)
            return corpus_source(documents, options, seed=seed)

        def describe(**arguments: Any) -> Description:
            documents, options, _seed = split(arguments)
            return corpus_description(corpus_vocabulary(documents, options)[0], options)

        loader.__signature__ = signature
        loader.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": "Source"}
        loader.__name__ = loader.__qualname__ = corpus.__name__
        own = inspect.cleandoc(corpus.__doc__ or "")
        loader.__doc__ = (
            f"{own}\n{CORPUS_ARGS}" if "\nArgs:" in own else f"{own}\n\nArgs:\n{CORPUS_ARGS}"
        )
        register_dataset(name)(loader)
        register_metadata(name)(describe)
        model_options[name] = ("architecture",)
        return corpus

    return decorator


def text_paths(path: str | Path) -> list[Path]:
    """A file, or every file under a folder (sorted)."""
    path = Path(path).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if files:
            return files
    raise ConfigError("data.path", f"no text file at {path}")


@register_corpus("wiki_sample")
def wiki_sample() -> Corpus:
    """Word2vec examples from 106 Wikipedia articles (452,944 tokens; gensim's test extract)."""
    return [prepared_file("wiki_sample", "wiki_sample.txt")]


@register_corpus("lee")
def lee() -> Corpus:
    """Word2vec examples from the Lee corpus (300 news texts, about 60,000 words)."""
    return [prepared_file("lee", "lee_background.txt")]


@register_corpus("text_corpus")
def text_corpus(*, path: str) -> Corpus:
    """Word2vec examples from a text file or a folder of them (one sentence per line).

    Args:
        path: the text file, or a folder whose files are all read.
    """
    return text_paths(path)


@register_corpus("tfds_corpus")
def tfds_corpus(*, dataset: str, split: str = "train", feature: str = "text") -> Corpus:
    """Word2vec examples from a TensorFlow Datasets text feature (downloads on first use).

    Args:
        dataset: the TFDS dataset's name.
        split: the TFDS split read (slicing included: ``"train[:10%]"``).
        feature: the text feature of each example.
    """
    import tensorflow_datasets as tfds

    try:
        documents = tfds.load(dataset, split=split, shuffle_files=False)
    except Exception as error:  # tfds raises many kinds for an unknown name or split
        raise ConfigError("data.dataset", f"cannot load tfds '{dataset}': {error}") from None
    if feature not in documents.element_spec:
        found = ", ".join(documents.element_spec)
        message = f"'{dataset}' has no feature '{feature}' (it has {found})"
        raise ConfigError("data.feature", message)
    return documents.map(lambda example: example[feature])
