"""Text classification sources: raw sentences in, class labels out.

Every source here yields ``x`` as raw Python strings (a NumPy array of ``str``): turning text
into token ids is the model's job (a ``TextVectorization`` layer saved inside it, so a saved
``model.keras`` takes raw strings). So that the vocabulary is learnt from the training split
only, each source makes its own seeded stratified train / validation / test split and hands
the training sentences to the model factories as ``extras["train_texts"]``.

- ``movie_review_polarity``: the 10,605 Rotten Tomatoes sentences (Pang & Lee's "MR"
  sentence-polarity set) with mean human ratings in −4..+4, shipped in the vaderSentiment
  3.3.2 source distribution (Hutto & Gilbert, ICWSM 2014). Label = rating > 0; the 37
  sentences rated exactly 0 are dropped, leaving 5,242 positive and 5,326 negative. Kim (2014)
  reports 10-fold cross-validation on MR; ``fold`` / ``folds`` give those folds.
- ``text_table``: a local TSV/CSV file with a text column and a label column.
- ``text_folder``: a local folder with one sub-folder of ``.txt`` files per class
  (``keras.utils.text_dataset_from_directory``).

The splits' ``validation_size`` / ``test_size`` are fractions of the whole set. These sources
make all three splits themselves, so the config's ``data.validation_split`` /
``data.test_split`` (fractions held out of the training data) cannot apply: ``datasets.load``
rejects a value for them. Without loading, a source's description gives the classes but not
the training sentences: a model built from it takes token ids, with the same weights.
"""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import (
    cached_path,
    not_prepared,
    read_from_package,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    register_preparer,
)
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import register_dataset

MR_NAME = "movie_review_polarity"
MR_FILE = "movieReviewSnippets_GroundTruth.txt"
MR_REQUIREMENT = "vaderSentiment==3.3.2"
MR_CLASS_NAMES = ["negative", "positive"]


# ---------------------------------------------------------------------------------------------
# Splitting, shared by every source here.


def split_texts(
    texts: np.ndarray,
    labels: np.ndarray,
    *,
    validation_size: float,
    test_size: float,
    seed: int,
    fold: int | None = None,
    folds: int = 10,
) -> dict[str, tuple[np.ndarray, np.ndarray] | None]:
    """Seeded, stratified train / validation / test split of (texts, labels).

    With ``fold`` (0-based), the test split is fold ``fold`` of a shuffled stratified
    ``folds``-fold partition (so the folds together cover every sentence once) and
    ``validation_size`` of the rest is held out for early stopping.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    if fold is not None:
        if folds < 2:
            raise ConfigError("data.folds", f"expected at least 2 folds, got {folds}")
        if not 0 <= fold < folds:
            raise ConfigError("data.fold", f"expected 0 ≤ fold < folds = {folds}, got {fold}")
        partition = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        train_index, test_index = list(partition.split(texts, labels))[fold]
        rest = (texts[train_index], labels[train_index])
        test = (texts[test_index], labels[test_index])
        validation_fraction = validation_size
    else:
        for key, value in (("validation_size", validation_size), ("test_size", test_size)):
            if not 0 <= value < 1:
                raise ConfigError(f"data.{key}", f"expected a fraction in [0, 1), got {value!r}")
        if validation_size + test_size >= 1:
            raise ConfigError("data.test_size", "validation_size + test_size must be below 1")
        if test_size:
            x_rest, x_test, y_rest, y_test = train_test_split(
                texts, labels, test_size=test_size, random_state=seed, stratify=labels
            )
            rest, test = (x_rest, y_rest), (x_test, y_test)
        else:
            rest, test = (texts, labels), None
        # validation_size is a fraction of the whole set, so of the rest it is larger.
        validation_fraction = validation_size / (1 - test_size)
    validation = None
    train = rest
    if validation_fraction:
        x_train, x_val, y_train, y_val = train_test_split(
            *rest, test_size=validation_fraction, random_state=seed + 1, stratify=rest[1]
        )
        train, validation = (x_train, y_train), (x_val, y_val)
    return {"train": train, "validation": validation, "test": test}


def text_source(
    texts: np.ndarray,
    labels: np.ndarray,
    class_names: list[str],
    *,
    validation_size: float,
    test_size: float,
    seed: int,
    fold: int | None = None,
    folds: int = 10,
) -> Source:
    """A classification :class:`Source` of raw strings whose ``extras["train_texts"]`` holds
    the training sentences (and only those) for adapting a vectorizer."""
    splits = split_texts(
        np.asarray(texts, dtype=object).astype(str),
        np.asarray(labels, dtype=np.int64),
        validation_size=validation_size,
        test_size=test_size,
        seed=seed,
        fold=fold,
        folds=folds,
    )
    return text_description(class_names).source(
        train=splits["train"],
        validation=splits["validation"],
        test=splits["test"],
        extras={"train_texts": splits["train"][0]},
    )


def text_description(class_names: list[str]) -> Description:
    """Raw strings in, one of ``class_names`` out."""
    return Description(
        input_shape=(),
        num_classes=len(class_names),
        class_names=list(class_names),
        note=TEXT_NOTE,
    )


TEXT_NOTE = (
    "the training sentences are not read, so this model takes token ids; trained, it takes"
    " raw strings through a TextVectorization layer (no weights) adapted on them"
)


# ---------------------------------------------------------------------------------------------
# movie_review_polarity


@register_preparer(MR_NAME)
def prepare_movie_review_polarity() -> Path:
    """Takes ``movieReviewSnippets_GroundTruth.txt`` out of the tarball inside the
    vaderSentiment 3.3.2 sdist and writes it to the cache."""
    inner = read_from_package(MR_REQUIREMENT, "hutto_ICWSM_2014.tar.gz", source=True)
    with tarfile.open(fileobj=io.BytesIO(inner)) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith(MR_FILE))
        data = archive.extractfile(member).read()
    return write_atomically(cached_path(MR_NAME, MR_FILE), data)


def read_movie_reviews(path: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentences, ratings, labels) with the zero-rated sentences dropped; label = rating > 0."""
    path = path or cached_path(MR_NAME, MR_FILE)
    if not path.exists():
        raise not_prepared(MR_NAME, path)
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        _id, rating, text = line.split("\t", 2)
        texts.append(text.strip())
        ratings.append(float(rating))
    texts_array, ratings_array = np.array(texts, dtype=object), np.array(ratings)
    keep = ratings_array != 0
    return texts_array[keep], ratings_array[keep], (ratings_array[keep] > 0).astype(np.int64)


@register_metadata(MR_NAME)
def movie_review_polarity_metadata() -> Description:
    return text_description(MR_CLASS_NAMES)


@register_dataset(MR_NAME)
def movie_review_polarity(
    *,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    fold: int | None = None,
    folds: int = 10,
    size: int | None = None,
    seed: int = 0,
) -> Source:
    """Rotten Tomatoes sentence polarity (Pang & Lee MR via vaderSentiment), 10,568 sentences.

    Raw strings; 0 = negative, 1 = positive. ``fold`` in [0, folds) makes the test split one
    fold of a seeded stratified ``folds``-fold partition (Kim 2014 reports 10-fold CV).
    ``size`` first takes a seeded stratified subset of that many sentences (quick runs, tests).

    Args:
        validation_size: fraction of the sentences held out for validation (with ``fold``:
            of those outside the test fold).
        test_size: fraction of the sentences held out for testing (ignored with ``fold``).
        fold: make the test split this fold (0-based) of a ``folds``-fold partition.
        folds: the number of folds of that partition.
        size: first take a seeded stratified subset of this many sentences (default: all).
        seed: seeds the subset, the splits and the partition.
    """
    texts, _ratings, labels = read_movie_reviews()
    if size is not None and size < len(labels):
        from sklearn.model_selection import train_test_split

        if size < 20:
            raise ConfigError("data.size", f"expected at least 20 sentences, got {size}")
        texts, _, labels, _ = train_test_split(
            texts, labels, train_size=size, random_state=seed, stratify=labels
        )
    return text_source(
        texts,
        labels,
        MR_CLASS_NAMES,
        validation_size=validation_size,
        test_size=test_size,
        seed=seed,
        fold=fold,
        folds=folds,
    )


# ---------------------------------------------------------------------------------------------
# Local text: a table, or a folder per class.


def _check_path(path: str, *, folder: bool) -> Path:
    resolved = Path(path).expanduser()
    if folder and not resolved.is_dir():
        raise ConfigError("data.path", f"no such folder: {path}")
    if not folder and not resolved.is_file():
        raise ConfigError("data.path", f"no such file: {path}")
    return resolved


@register_dataset("text_table")
def text_table(
    *,
    path: str,
    text_column: str = "text",
    label_column: str = "label",
    delimiter: str | None = None,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    fold: int | None = None,
    folds: int = 10,
    seed: int = 0,
) -> Source:
    """A local TSV/CSV file with a header row: a text column and a label column.

    The delimiter is a tab for ``.tsv``/``.tab`` files and a comma otherwise unless given.
    Labels may be any strings or numbers; classes are their sorted distinct values.

    Args:
        path: the TSV/CSV file.
        text_column: the header of the text column.
        label_column: the header of the label column.
        delimiter: the field separator (default: from the file's extension).
        validation_size: fraction of the rows held out for validation (with ``fold``: of
            those outside the test fold).
        test_size: fraction of the rows held out for testing (ignored with ``fold``).
        fold: make the test split this fold (0-based) of a ``folds``-fold partition.
        folds: the number of folds of that partition.
        seed: seeds the splits and the partition.
    """
    texts, raw_labels = read_table(path, text_column, label_column, delimiter)
    class_names = sorted(set(raw_labels), key=_numeric_first)
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index[label] for label in raw_labels])
    return text_source(
        texts, labels, class_names,
        validation_size=validation_size, test_size=test_size, seed=seed, fold=fold, folds=folds,
    )  # fmt: skip


@register_metadata("text_table")
def text_table_metadata(
    *, path: str, text_column: str, label_column: str, delimiter: str | None
) -> Description:
    """The classes are the label column's distinct values (the table is read, not split)."""
    _texts, raw_labels = read_table(path, text_column, label_column, delimiter)
    return text_description(sorted(set(raw_labels), key=_numeric_first))


def read_table(
    path: str, text_column: str, label_column: str, delimiter: str | None
) -> tuple[list[str], list[str]]:
    """The text and label columns of a TSV/CSV file with a header row."""
    file = _check_path(path, folder=False)
    if delimiter is None:
        delimiter = "\t" if file.suffix.lower() in (".tsv", ".tab") else ","
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        columns = reader.fieldnames or []
        for key, column in (("text_column", text_column), ("label_column", label_column)):
            if column not in columns:
                raise ConfigError(
                    f"data.{key}", f"{file.name} has no column {column!r} (columns: {columns})"
                )
        rows = [(row[text_column], row[label_column].strip()) for row in reader]
    if not rows:
        raise CurriculumError(f"{file} has no rows")
    return [text for text, _ in rows], [label for _, label in rows]


def _numeric_first(label: str):
    # "2" < "10" numerically; non-numeric labels sort as strings after the numbers.
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


@register_dataset("text_folder")
def text_folder(
    *,
    path: str,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    fold: int | None = None,
    folds: int = 10,
    seed: int = 0,
) -> Source:
    """A local folder of text files, one sub-folder per class: ``path/<class name>/*.txt``.

    Read with ``keras.utils.text_dataset_from_directory`` (classes in alphabetical order).

    Args:
        path: the folder (one sub-folder of ``.txt`` files per class).
        validation_size: fraction of the texts held out for validation (with ``fold``: of
            those outside the test fold).
        test_size: fraction of the texts held out for testing (ignored with ``fold``).
        fold: make the test split this fold (0-based) of a ``folds``-fold partition.
        folds: the number of folds of that partition.
        seed: seeds the splits and the partition.
    """
    import keras

    folder = _check_path(path, folder=True)
    try:
        dataset = keras.utils.text_dataset_from_directory(
            folder,
            labels="inferred",
            label_mode="int",
            batch_size=None,
            shuffle=False,
            verbose=False,
        )
    except ValueError as error:
        raise CurriculumError(f"{folder}: {error}") from None
    class_names = list(dataset.class_names)
    texts, labels = [], []
    for text, label in dataset.as_numpy_iterator():
        texts.append(text.decode("utf-8"))
        labels.append(int(label))
    return text_source(
        texts, np.array(labels), class_names,
        validation_size=validation_size, test_size=test_size, seed=seed, fold=fold, folds=folds,
    )  # fmt: skip


@register_metadata("text_folder")
def text_folder_metadata(*, path: str) -> Description:
    """The classes are the sub-folders' names, in alphabetical order (as
    ``text_dataset_from_directory`` numbers them)."""
    folder = _check_path(path, folder=True)
    return text_description(sorted(p.name for p in folder.iterdir() if p.is_dir()))
