"""The front end and head shared by the text classifiers (``rnn.py``, ``transformer.py``).

Text enters a model as raw strings. A ``TextVectorization`` layer, adapted on the training
sentences only, standardises them (lower case, strip punctuation), splits on whitespace and
maps each word to an integer id: 0 is padding, 1 the out-of-vocabulary token ``[UNK]``, then
the most frequent training words. The layer is part of the model, so its vocabulary is saved
in ``model.keras`` and a reloaded model takes raw strings too (the notes' ``Tokenizer`` +
``pad_sequences`` of Keras 2 are gone in Keras 3).

Without training sentences the model takes integer token ids instead (the notes' own
summaries, "Input(100) → Embedding(5000, 100)", are written that way).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.layers import output_layer

VECTORIZER = "vectorizer"
EMBEDDING = "token_embedding"


def text_inputs(
    train_texts: Any,
    *,
    vocabulary: Sequence[str] | None = None,
    vocabulary_size: int | None,
    sequence_length: int | None,
    standardize: str | None,
    variable_length_ids: bool = False,
) -> tuple[keras.KerasTensor, keras.KerasTensor, list[str] | None, int]:
    """(model input, token ids, vocabulary or None, embedding rows).

    ``vocabulary`` (a saved vectorizer's, padding and ``[UNK]`` first) replaces adapting on
    ``train_texts``.

    With ``train_texts`` (an array of strings or a batched ``tf.data`` stream of them) the input
    is a string per example and the vectorizer is adapted on those sentences. Without them the
    input is a sequence of integer ids and ``vocabulary_size`` must be given. The embedding has
    ``vocabulary_size`` rows even when the adapted vocabulary is smaller, so a config's
    parameter count does not depend on the data. ``variable_length_ids`` lets token-id input
    have any length (``sequence_length`` is then only an upper bound).
    """
    if train_texts is None and vocabulary is None:
        if vocabulary_size is None:
            raise ConfigError(
                "model.vocabulary_size",
                "needed when the data gives no training texts (token-id input)",
            )
        length = None if variable_length_ids else sequence_length
        inputs = keras.Input(shape=(length,), dtype="int32", name="token_ids")
        return inputs, inputs, None, vocabulary_size
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        standardize=standardize,
        output_mode="int",
        output_sequence_length=sequence_length,  # None: pad to the longest sentence in a batch
        vocabulary=None if vocabulary is None else list(vocabulary),
        name=VECTORIZER,
    )
    if vocabulary is None:
        texts = (
            np.asarray(train_texts, dtype=object)
            if isinstance(train_texts, list | tuple)
            else train_texts
        )
        vectorizer.adapt(texts)
    vocabulary = [str(word) for word in vectorizer.get_vocabulary()]
    inputs = keras.Input(shape=(), dtype="string", name="text")
    return inputs, vectorizer(inputs), vocabulary, vocabulary_size or len(vocabulary)


def load_word_vectors(
    path: str, vocabulary: list[str] | None, rows: int, dim: int, *, seed: int = 0
) -> np.ndarray:
    """An embedding matrix (rows, dim) from saved word vectors.

    ``.npy``: a matrix whose row i is token id i (its first rows are used if it is larger).
    Anything else is read as word2vec/GloVe text ("word v1 … v_dim" per line, an optional
    "count dim" header): each vocabulary word found there gets its vector; the others (and
    padding) keep a small random vector.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError("model.embedding_weights", f"no such file: {path}")
    if file.suffix == ".npy":
        matrix = np.load(file)
        if matrix.ndim != 2 or matrix.shape[1] != dim or matrix.shape[0] < rows:
            raise ConfigError(
                "model.embedding_weights",
                f"expected at least ({rows}, {dim}) in {file.name}, got {matrix.shape}",
            )
        return matrix[:rows].astype("float32")
    if vocabulary is None:
        raise ConfigError(
            "model.embedding_weights", "word2vec text vectors need text input (a vocabulary)"
        )
    index = {word: i for i, word in enumerate(vocabulary[:rows])}
    matrix = np.random.default_rng(seed).uniform(-0.05, 0.05, (rows, dim)).astype("float32")
    with file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle):
            parts = line.rstrip().split(" ")
            if number == 0 and len(parts) == 2:
                continue  # the word2vec header
            if len(parts) != dim + 1:
                raise ConfigError(
                    "model.embedding_weights",
                    f"{file.name} line {number + 1}: expected a word and {dim} numbers",
                )
            if parts[0] in index:
                matrix[index[parts[0]]] = np.asarray(parts[1:], dtype="float32")
    return matrix


def token_embedding(
    rows: int, dim: int, *, mask_zero: bool, trainable: bool = True
) -> keras.layers.Embedding:
    """Token id → dense vector; ``mask_zero`` tells the layers after it which steps are padding."""
    return keras.layers.Embedding(
        rows, dim, mask_zero=mask_zero, trainable=trainable, name=EMBEDDING
    )


def set_embedding_weights(
    model: keras.Model, path: str | None, vocabulary: list[str] | None, *, seed: int = 0
) -> None:
    """Loads saved word vectors into the model's token embedding (after the model is built,
    so the vectors are weights saved with the model, not a huge initialiser in its config)."""
    if path is None:
        return
    layer = model.get_layer(EMBEDDING)
    rows, dim = layer.input_dim, layer.output_dim
    layer.set_weights([load_word_vectors(path, vocabulary, rows, dim, seed=seed)])


def classification_head(
    x, num_classes: int, *, hidden_units: tuple[int, ...] = (), dropout: float = 0.0
) -> keras.KerasTensor:
    """Dense (ReLU) layers, then one sigmoid unit for two classes (p(positive)) or a softmax
    over ``num_classes`` (pair it with binary / sparse categorical cross-entropy)."""
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"head_dense{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"head_dropout{index}")(x)
    if num_classes == 2:
        return output_layer(1, "sigmoid")(x)
    return output_layer(num_classes, "softmax")(x)
