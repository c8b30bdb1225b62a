"""A Transformer encoder for sentence classification (Vaswani et al. 2017, encoder only).

The idea (notes 002 §9.3): instead of carrying a state through time, every token looks at
every other token at once. Scaled dot-product attention mixes the value vectors of all tokens
with weights from query–key similarity,

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) · V,

where Q = X W_Q, K = X W_K, V = X W_V and d_k is the key width (dividing by √d_k keeps the
softmax from saturating as d_k grows). Multi-head attention runs h such maps on smaller
projections and concatenates them. (The notes print softmax(q·kᵀ/√d_k · v): the V multiplies
the softmax, it is not inside it.) Each encoder block is

    X ← LayerNorm(X + Dropout(MultiHeadAttention(X, X, X)))        # residual + layer norm
    X ← LayerNorm(X + Dropout(W₂ ReLU(W₁ X + b₁) + b₂))              # position-wise feed-forward

Attention has no notion of order, so a position encoding is added to the token embeddings:
learned (one trainable vector per position) or sinusoidal, PE(p, 2i) = sin(p / 10000^(2i/d)),
PE(p, 2i+1) = cos(p / 10000^(2i/d)). Padding (token id 0) is masked as a key, so no token attends
to it, and the sentence vector is the mean over the real tokens only: appending padding does not
change the prediction. :func:`attention_weights` returns the maps for one sentence (and
:meth:`TransformerClassifier.attention_maps` for several, without the padding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import FunctionalModel, arguments, arguments_for
from keras_curriculum.models.text import (
    VECTORIZER,
    classification_head,
    set_embedding_weights,
    text_inputs,
    token_embedding,
)
from keras_curriculum.registry import register_model


@keras.saving.register_keras_serializable(package="keras_curriculum")
class PositionEncoding(keras.layers.Layer):
    """Adds a position vector to each token vector: learned, or sinusoidal (fixed)."""

    def __init__(self, max_length: int, kind: str = "learned", **kwargs):
        super().__init__(**kwargs)
        if kind not in ("learned", "sinusoidal"):
            raise ValueError(f"kind must be 'learned' or 'sinusoidal', got {kind!r}")
        self.max_length = max_length
        self.kind = kind

    def build(self, input_shape):
        dim = input_shape[-1]
        if self.kind == "learned":
            self.table = self.add_weight(
                shape=(self.max_length, dim), initializer="uniform", name="positions"
            )
        else:
            self.table = ops.convert_to_tensor(sinusoidal_table(self.max_length, dim))

    def call(self, x):
        length = ops.shape(x)[1]
        return x + ops.cast(self.table[:length], x.dtype)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "kind": self.kind}


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(p / 10000^(2i/d)); shape (length, dim)."""
    positions = np.arange(length)[:, None]
    rates = 1.0 / np.power(10000.0, (2 * (np.arange(dim) // 2)) / dim)
    angles = positions * rates[None, :]
    table = np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype("float32")


def encoder_block(
    x,
    key_padding_mask,
    *,
    num_heads: int,
    feed_forward_dim: int,
    dropout: float,
    attention_dropout: float,
    name: str,
):
    """Multi-head self-attention and a position-wise feed-forward net, each wrapped in
    dropout + residual + layer norm. ``key_padding_mask`` (batch, 1, T) is True for real tokens."""
    dim = x.shape[-1]
    attention = keras.layers.MultiHeadAttention(
        num_heads, key_dim=dim // num_heads, dropout=attention_dropout, name=f"{name}_attention"
    )
    # The scores are returned too, so attention_weights() can read them from the saved model.
    attended, _scores = attention(
        x, x, attention_mask=key_padding_mask, return_attention_scores=True
    )
    attended = keras.layers.Dropout(dropout, name=f"{name}_attention_dropout")(attended)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(
        keras.layers.Add(name=f"{name}_residual1")([x, attended])
    )
    hidden = keras.layers.Dense(feed_forward_dim, activation="relu", name=f"{name}_ffn1")(x)
    hidden = keras.layers.Dense(dim, name=f"{name}_ffn2")(hidden)
    hidden = keras.layers.Dropout(dropout, name=f"{name}_ffn_dropout")(hidden)
    return keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(
        keras.layers.Add(name=f"{name}_residual2")([x, hidden])
    )


def encoder_stack(
    x,
    key_padding_mask,
    *,
    num_blocks: int,
    num_heads: int,
    feed_forward_dim: int,
    dropout: float,
    attention_dropout: float,
    prefix: str = "block",
):
    """``num_blocks`` encoder blocks, named ``{prefix}1`` … ``{prefix}N``, one after the other."""
    for index in range(1, num_blocks + 1):
        x = encoder_block(
            x,
            key_padding_mask,
            num_heads=num_heads,
            feed_forward_dim=feed_forward_dim,
            dropout=dropout,
            attention_dropout=attention_dropout,
            name=f"{prefix}{index}",
        )
    return x


@register_model("transformer_classifier")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class TransformerClassifier(FunctionalModel):
    """Text → vectorizer → token + position embeddings → encoder blocks → masked mean → head.

    Without ``train_texts`` (or ``vocabulary``) the model takes integer token ids of any length
    up to ``sequence_length``. :meth:`attention_maps` gives each block's attention weights.

    Args:
        train_texts: training sentences (array of strings or a batched ``tf.data`` stream)
            to adapt the vectorizer on; the model then takes raw strings.
        vocabulary: the vectorizer's vocabulary, instead of ``train_texts`` (a saved model's
            config records it).
        num_classes: 2 gives one sigmoid unit p(positive), more a softmax.
        vocabulary_size: rows of the token embedding (and the vectorizer's maximum vocabulary;
            null: the adapted vocabulary's size).
        sequence_length: the vectorizer's padded length and the number of positions.
        standardize: the vectorizer's standardisation (null: none).
        embedding_dim: width d of the token vectors and of every block.
        embedding_weights: saved word vectors loaded into the token embedding (``.npy``
            matrix, or word2vec/GloVe text).
        embedding_trainable: whether the token embedding is trained.
        positions: 'learned' (one trainable vector per position) or 'sinusoidal' (fixed).
        num_blocks: number of encoder blocks.
        num_heads: attention heads per block; must divide ``embedding_dim``.
        feed_forward_dim: hidden width of the position-wise feed-forward net.
        dropout: dropout rate after the embeddings, the attention and the feed-forward net.
        attention_dropout: dropout rate on the attention weights.
        head_units: widths of the Dense (ReLU) layers before the output.
        head_dropout: dropout rate after each of those layers.
        name: the model's name.
    """

    def __init__(
        self,
        *,
        train_texts: Any = None,
        vocabulary: Sequence[str] | None = None,
        num_classes: int = 2,
        vocabulary_size: int | None = 20000,
        sequence_length: int = 64,
        standardize: str | None = "lower_and_strip_punctuation",
        embedding_dim: int = 64,
        embedding_weights: str | None = None,
        embedding_trainable: bool = True,
        positions: Literal["learned", "sinusoidal"] = "learned",
        num_blocks: int = 2,
        num_heads: int = 4,
        feed_forward_dim: int = 128,
        dropout: float = 0.1,
        attention_dropout: float = 0.0,
        head_units: Sequence[int] = (),
        head_dropout: float = 0.0,
        name: str = "transformer_classifier",
        **kwargs: Any,
    ):
        hyperparameters = arguments(locals())
        if embedding_dim % num_heads:
            raise ConfigError("model.num_heads", f"must divide embedding_dim = {embedding_dim}")
        if positions == "sinusoidal" and embedding_dim % 2:
            raise ConfigError("model.embedding_dim", "sinusoidal positions need an even width")

        # === Functional Model ===
        inputs, token_ids, vocabulary, rows = text_inputs(
            train_texts,
            vocabulary=vocabulary,
            vocabulary_size=vocabulary_size,
            sequence_length=sequence_length,
            standardize=standardize,
            variable_length_ids=True,
        )
        # No Keras mask is propagated: the padding mask is explicit, as in the paper.
        is_token = ops.not_equal(token_ids, 0)
        key_padding_mask = ops.expand_dims(is_token, axis=1)  # (batch, 1, T): over queries
        x = token_embedding(rows, embedding_dim, mask_zero=False, trainable=embedding_trainable)(
            token_ids
        )
        x = PositionEncoding(sequence_length, positions, name="position_encoding")(x)
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        x = encoder_stack(x, key_padding_mask, **arguments_for(encoder_stack, hyperparameters))
        x = keras.layers.GlobalAveragePooling1D(name="masked_mean")(x, mask=is_token)
        outputs = classification_head(
            x, num_classes, hidden_units=tuple(head_units), dropout=head_dropout
        )
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        set_embedding_weights(self, embedding_weights, vocabulary)

        # === Config ===
        # The vocabulary stands for the training sentences; loaded vectors are saved weights.
        hyperparameters.update(vocabulary=vocabulary)
        for key in ("train_texts", "embedding_weights"):
            hyperparameters.pop(key)
        self.hyperparameters = hyperparameters

    def attention_maps(self, inputs) -> list[tuple[list[str], np.ndarray]]:
        """For each sentence (or token-id sequence), its tokens and the attention weights
        (blocks, heads, T, T) without padding (the report interface)."""
        probe = attention_probe(self)
        return [attention_weights(self, sentence, probe=probe).trimmed() for sentence in inputs]


@dataclass
class AttentionMaps:
    """The attention of every block and head for one sentence.

    ``weights[b, h, q, k]`` is how much query token q attends to key token k in head h of block b;
    each row sums to 1 over k, and padding keys (``is_token`` False) get 0.
    """

    tokens: list[str]
    is_token: np.ndarray
    weights: np.ndarray

    def trimmed(self) -> tuple[list[str], np.ndarray]:
        """Tokens and weights without the padding positions."""
        keep = np.flatnonzero(self.is_token)
        return [self.tokens[i] for i in keep], self.weights[:, :, keep][:, :, :, keep]


def attention_probe(model: keras.Model) -> keras.Model:
    """input → the attention scores of every MultiHeadAttention layer of ``model``."""
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.MultiHeadAttention)]
    if not layers:
        raise ValueError(f"model '{model.name}' has no MultiHeadAttention layer")
    return keras.Model(model.input, [layer.output[1] for layer in layers])


def attention_weights(
    model: keras.Model, sentence: str | Sequence[int], *, probe: keras.Model | None = None
) -> AttentionMaps:
    """The attention maps of a (saved or in-memory) transformer_classifier for one sentence:
    a raw string for a text model, a list of token ids for a token-id model. ``probe``: the
    model's :func:`attention_probe`, when several sentences share it."""
    if probe is None:
        probe = attention_probe(model)
    text_model = any(layer.name == VECTORIZER for layer in model.layers)
    if text_model:
        batch = np.array([sentence], dtype=object)
        ids = np.asarray(model.get_layer(VECTORIZER)(batch))[0]
        vocabulary = model.get_layer(VECTORIZER).get_vocabulary()
        tokens = [str(vocabulary[i]) if i else "" for i in ids]
    else:
        ids = np.asarray(sentence, dtype="int32")
        batch = ids[None, :]
        tokens = [str(i) if i else "" for i in ids]
    maps = probe(batch, training=False)  # not predict: one compiled function per call
    maps = maps if isinstance(maps, list) else [maps]
    weights = np.stack([np.asarray(m)[0] for m in maps])  # (blocks, heads, T, T)
    return AttentionMaps(tokens=tokens, is_token=ids != 0, weights=weights)


def scaled_dot_product_attention(query, key, value, mask=None):
    """softmax(Q Kᵀ / √d_k) · V written out with keras.ops, for reading alongside the layer
    (``keras.layers.MultiHeadAttention`` computes the same per head). ``mask`` (…, T_q, T_k) is
    True where a key may be attended to. Returns (output, weights)."""
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
    weights = ops.softmax(scores, axis=-1)
    return ops.matmul(weights, value), weights
