"""Recurrent sentence classifiers: SimpleRNN, LSTM, GRU, bidirectional and stacked (many-to-one).

The idea (notes 000 sentiment, 001 §24 and App A, 002 §8, 003 §4, 004 L7): read a sentence one
token at a time and carry a state vector forward,

    simple:  h_t = tanh(W_x x_t + W_h h_{t−1} + b)
    LSTM:    f, i, o = σ(W·[x_t, h_{t−1}] + b_{f,i,o}),  c̃ = tanh(W_c·[x_t, h_{t−1}] + b_c)
             c_t = f ⊙ c_{t−1} + i ⊙ c̃,   h_t = o ⊙ tanh(c_t)
    GRU:     z, r = σ(…),  h̃ = tanh(W x_t + r ⊙ (U h_{t−1}) + b),  h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃

and classify the last state. The gates let the LSTM/GRU keep information over long spans where
the simple RNN's gradient vanishes. An LSTM with u units on d inputs has 4·u·(d + u + 1)
parameters; a Keras GRU has 3·u·(d + u + 2) (``reset_after=True`` keeps two biases; the notes'
3·u·(d + u + 1) is the ``reset_after=False`` variant); ``bidirectional`` runs a second layer
backwards and concatenates, doubling the parameters and the output width.

Padding is masked: the embedding marks id 0 as padding (``mask_zero``) and the recurrent layers
skip those steps (they carry the state through unchanged), so "good film" and "good film" padded
to 50 tokens get the same prediction.

Sizes of the notes' models (``configs/notes/``): 000's Embedding(100, 16) → LSTM(32) → Dense(1)
has 1,600 + 4·32·(16+32+1) + 33 = 7,905 parameters; 001 B.9's frozen Embedding(5000, 100) →
LSTM(128) → LSTM(64) → LSTM(32) → Dense(1) has 679,105, of which 179,105 are trainable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.text import (
    classification_head,
    set_embedding_weights,
    text_inputs,
    token_embedding,
)
from keras_curriculum.registry import register_model

CELLS = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def recurrent_block(
    x,
    units: int,
    *,
    cell: str,
    bidirectional: bool,
    return_sequences: bool,
    dropout: float,
    recurrent_dropout: float,
    name: str,
):
    """One recurrent layer (optionally bidirectional). ``return_sequences`` hands every step's
    state to the next stacked layer; the last layer returns only its final state."""
    layer = CELLS[cell](
        units,
        return_sequences=return_sequences,
        dropout=dropout,  # on the inputs x_t
        recurrent_dropout=recurrent_dropout,  # on the carried state h_{t−1}
        name=f"{name}_{cell}",
    )
    if bidirectional:
        layer = keras.layers.Bidirectional(layer, name=f"{name}_bidirectional")
    return layer(x)


def recurrent_stack(
    x,
    units: Sequence[int],
    *,
    cell: str,
    bidirectional: bool,
    dropout: float,
    recurrent_dropout: float,
    layer_dropout: float = 0.0,
):
    """Stacked recurrent layers ``recurrent1 … recurrentN``, one per entry of ``units``: every
    layer but the last hands all its states to the next, the last returns its final state.
    ``layer_dropout`` adds a Dropout layer after each (notes 001 §24.4)."""
    for index, layer_units in enumerate(units, start=1):
        x = recurrent_block(
            x,
            layer_units,
            cell=cell,
            bidirectional=bidirectional,
            return_sequences=index < len(units),
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"recurrent{index}",
        )
        if layer_dropout:
            x = keras.layers.Dropout(layer_dropout, name=f"recurrent{index}_dropout")(x)
    return x


@register_model("rnn_classifier")
def rnn_classifier(
    *,
    train_texts: Any = None,
    num_classes: int = 2,
    vocabulary_size: int | None = 20000,
    sequence_length: int | None = None,
    standardize: str | None = "lower_and_strip_punctuation",
    embedding_dim: int = 128,
    embedding_weights: str | None = None,
    embedding_trainable: bool = True,
    embedding_dropout: float = 0.0,
    cell: Literal["simple", "lstm", "gru"] = "lstm",
    units: Sequence[int] = (64,),
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    mask_padding: bool = True,
    head_units: Sequence[int] = (),
    head_dropout: float = 0.0,
    name: str = "rnn_classifier",
) -> keras.Model:
    """Text → TextVectorization → Embedding → recurrent layer(s) → sigmoid/softmax head.

    Without ``train_texts`` the model takes integer token ids of length ``sequence_length``.

    Args:
        train_texts: training sentences (filled in from a text dataset) to adapt the
            vectorizer on; the model then takes raw strings.
        num_classes: 2 gives one sigmoid unit p(positive), more a softmax.
        vocabulary_size: tokens kept by the vectorizer (padding and [UNK] included) and rows
            of the embedding (null: the adapted vocabulary's size).
        sequence_length: padded/truncated length (null: the longest sentence of each batch).
        standardize: the vectorizer's standardisation (null: none).
        embedding_dim: width of the token vectors.
        embedding_weights: saved word vectors loaded into the embedding (``.npy`` matrix,
            or word2vec/GloVe text).
        embedding_trainable: false freezes the embedding.
        embedding_dropout: rate of whole words dropped while training (a regulariser for
            small corpora).
        cell: the recurrent cell: 'simple', 'lstm' or 'gru'.
        units: one stacked recurrent layer per entry, with that many units.
        bidirectional: read each sentence in both directions.
        dropout: dropout rate on the recurrent layers' inputs.
        recurrent_dropout: dropout rate on the recurrent state.
        mask_padding: tell the recurrent layers which steps are padding.
        head_units: widths of the Dense (ReLU) layers before the output.
        head_dropout: dropout rate after each of those layers.
        name: the model's name.
    """
    if not units:
        raise ConfigError("model.units", "expected at least one recurrent layer")
    inputs, token_ids, vocabulary, rows = text_inputs(
        train_texts,
        vocabulary_size=vocabulary_size,
        sequence_length=sequence_length,
        standardize=standardize,
    )
    x = token_embedding(rows, embedding_dim, mask_zero=mask_padding, trainable=embedding_trainable)(
        token_ids
    )
    if embedding_dropout:
        # noise_shape (batch, steps, 1): a dropped word loses its whole vector.
        x = keras.layers.Dropout(
            embedding_dropout, noise_shape=(None, None, 1), name="word_dropout"
        )(x)
    x = recurrent_stack(
        x,
        tuple(units),
        cell=cell,
        bidirectional=bidirectional,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
    )
    outputs = classification_head(
        x, num_classes, hidden_units=tuple(head_units), dropout=head_dropout
    )
    model = keras.Model(inputs, outputs, name=name)
    set_embedding_weights(model, embedding_weights, vocabulary)
    return model
