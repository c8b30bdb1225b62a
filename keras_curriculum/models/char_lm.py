"""Character-level language models: a recurrent body or a causal Transformer decoder.

The idea (notes 001 §25.1–2 and B.10, 004 L7): read text one character at a time and, at every
position t, predict the next character from the ones before it,

    p(c_{t+1} | c_1 … c_t) = softmax(W h_t + b),

where h_t is a recurrent state (SimpleRNN, LSTM or GRU layers stacked with
``return_sequences=True``: many-to-many, one prediction per step, the Dense applied to every
step as the notes' ``TimeDistributed(Dense)``) or the output of a causal Transformer decoder
(masked multi-head self-attention: position t attends to positions ≤ t only, so changing a later
character never changes an earlier prediction). Training minimises the mean cross-entropy
−log p(c_{t+1}) over every position of every window; divided by ln 2 it is bits per character.
Both bodies train on the same windows with the same loss, so they can be compared side by side.

The Transformer decoder block, pre-norm (GPT-2) or post-norm (Vaswani et al. 2017, 002 §9.3):

    pre:   X ← X + MHA(LN(X)),        X ← X + FFN(LN(X))         (+ a final LN)
    post:  X ← LN(X + MHA(X)),        X ← LN(X + FFN(X))

``tie_weights`` reuses the input embedding E as the output projection (logits = h Eᵀ + b,
Press & Wolf 2017), which saves V·d parameters.

Truncated backpropagation through time (``stateful_batch``): the recurrent layers keep their
state from one batch to the next, so a row of consecutive windows is one long sequence whose
gradient is cut at window boundaries (pair it with the data's ``consecutive_batch``). The state
is zeroed before every evaluation (validation and test read their text in order from its start)
and carried on otherwise, also from one training epoch into the next.

Sizes of the notes' models (``configs/notes/``): 001 §25.1's SimpleRNN(256) on one-hot 65
characters → Dense(65) has 256·(65 + 256 + 1) + 257·65 = 99,137 parameters; 001 B.10's GRU(64)
on (10, 141) → TimeDistributed Dense(141) has 3·64·(141 + 64 + 2) = 39,744 + 65·141 = 48,909.

The model keeps its vocabulary (``model.vocabulary``) so a saved run samples text by itself
(``keras-curriculum generate``; sampling lives in ``keras_curriculum.evaluation.generation``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import arguments, arguments_for
from keras_curriculum.models.layers import output_layer
from keras_curriculum.models.rnn import CELLS
from keras_curriculum.models.transformer import PositionEncoding
from keras_curriculum.registry import register_model

Norm = Literal["pre", "post"]


@keras.saving.register_keras_serializable(package="keras_curriculum")
class ReversibleEmbedding(keras.layers.Embedding):
    """An embedding that also maps vectors back to token scores (``reverse=True``: x Eᵀ), so
    the input and output sides share one matrix (weight tying)."""

    def call(self, inputs, reverse: bool = False):
        if reverse:
            return ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))
        return super().call(inputs)

    def compute_output_spec(self, inputs, reverse: bool = False):
        if reverse:
            return keras.KerasTensor((*inputs.shape[:-1], self.input_dim), dtype=self.compute_dtype)
        return super().compute_output_spec(inputs)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class OneHot(keras.layers.Layer):
    """Character ids → one-hot vectors (no parameters): the notes' input encoding."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, ids):
        return ops.one_hot(ids, self.depth, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def recurrent_layer(
    x, units: int, *, cell: str, dropout: float, stateful: bool, name: str
) -> keras.KerasTensor:
    """One many-to-many recurrent layer: a state for every step (``return_sequences``)."""
    return CELLS[cell](
        units, return_sequences=True, dropout=dropout, stateful=stateful, name=f"{name}_{cell}"
    )(x)


def feed_forward(x, feed_forward_dim: int, dropout: float, *, name: str) -> keras.KerasTensor:
    """The position-wise network W₂ ReLU(W₁ x + b₁) + b₂, then dropout."""
    hidden = keras.layers.Dense(feed_forward_dim, activation="relu", name=f"{name}_ffn1")(x)
    hidden = keras.layers.Dense(x.shape[-1], name=f"{name}_ffn2")(hidden)
    return keras.layers.Dropout(dropout, name=f"{name}_ffn_dropout")(hidden)


def sublayer(x, function, *, norm: Norm, name: str) -> keras.KerasTensor:
    """A residual sub-layer with its layer norm before (pre) or after (post) the sum."""
    layer_norm = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")
    if norm == "pre":
        return keras.layers.Add(name=f"{name}_residual")([x, function(layer_norm(x))])
    return layer_norm(keras.layers.Add(name=f"{name}_residual")([x, function(x)]))


def decoder_block(
    x,
    *,
    num_heads: int,
    feed_forward_dim: int,
    dropout: float,
    norm: Norm,
    name: str,
    memory=None,
    memory_mask=None,
) -> keras.KerasTensor:
    """Causal multi-head self-attention, then (with an encoder ``memory``) cross-attention to
    it, then the feed-forward net; each a residual sub-layer. ``memory_mask`` (batch, 1, S) is
    True for real source tokens. The attention layers also return their weights, so the
    attention maps can be read from a saved model."""
    dim = x.shape[-1]

    def self_attention(h):
        layer = keras.layers.MultiHeadAttention(
            num_heads, key_dim=dim // num_heads, dropout=dropout, name=f"{name}_self_attention"
        )
        attended, _weights = layer(h, h, use_causal_mask=True, return_attention_scores=True)
        return keras.layers.Dropout(dropout, name=f"{name}_self_dropout")(attended)

    def cross_attention(h):
        layer = keras.layers.MultiHeadAttention(
            num_heads, key_dim=dim // num_heads, dropout=dropout, name=f"{name}_cross_attention"
        )
        attended, _weights = layer(
            h, memory, attention_mask=memory_mask, return_attention_scores=True
        )
        return keras.layers.Dropout(dropout, name=f"{name}_cross_dropout")(attended)

    x = sublayer(x, self_attention, norm=norm, name=f"{name}_self")
    if memory is not None:
        x = sublayer(x, cross_attention, norm=norm, name=f"{name}_cross")
    return sublayer(
        x,
        lambda h: feed_forward(h, feed_forward_dim, dropout, name=name),
        norm=norm,
        name=f"{name}_ffn",
    )


def recurrent_body(
    token_ids,
    *,
    rows: int,
    cell: str,
    units: Sequence[int],
    embedding_dim: int | None,
    dropout: float,
    stateful_batch: int | None,
) -> keras.KerasTensor:
    """Embedding (or one-hot) → stacked recurrent layers → per-step softmax (the options of
    :func:`char_rnn_lm`)."""
    if not units:
        raise ConfigError("model.units", "expected at least one recurrent layer")
    if cell not in CELLS:
        raise ConfigError("model.cell", f"expected one of {sorted(CELLS)}, got {cell!r}")
    if embedding_dim:
        x = keras.layers.Embedding(rows, embedding_dim, name="token_embedding")(token_ids)
    else:
        x = OneHot(rows, name="one_hot")(token_ids)
    for index, layer_units in enumerate(units, start=1):
        x = recurrent_layer(
            x,
            layer_units,
            cell=cell,
            dropout=dropout,
            stateful=bool(stateful_batch),
            name=f"recurrent{index}",
        )
    return output_layer(rows, "softmax")(x)


def transformer_body(
    token_ids,
    *,
    rows: int,
    sequence_length: int,
    model_dim: int,
    num_blocks: int,
    num_heads: int,
    feed_forward_dim: int,
    dropout: float,
    norm: Norm,
    positions: Literal["learned", "sinusoidal"],
    tie_weights: bool,
) -> keras.KerasTensor:
    """Token + position embeddings → causal decoder blocks → (tied) per-step softmax (the
    options of :func:`char_transformer_lm`)."""
    if model_dim % num_heads:
        raise ConfigError("model.num_heads", f"must divide model_dim = {model_dim}")
    if norm not in ("pre", "post"):
        raise ConfigError("model.norm", f"expected 'pre' or 'post', got {norm!r}")
    embedding = ReversibleEmbedding(rows, model_dim, name="token_embedding")
    x = embedding(token_ids)
    x = PositionEncoding(sequence_length, positions, name="position_encoding")(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for index in range(1, num_blocks + 1):
        x = decoder_block(
            x,
            num_heads=num_heads,
            feed_forward_dim=feed_forward_dim,
            dropout=dropout,
            norm=norm,
            name=f"block{index}",
        )
    if norm == "pre":
        x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    if tie_weights:
        logits = BiasAdd(name="output_bias")(embedding(x, reverse=True))
        return keras.layers.Activation("softmax", dtype="float32", name="predictions")(logits)
    return output_layer(rows, "softmax")(x)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class BiasAdd(keras.layers.Layer):
    """Adds a learned bias per output unit (the tied projection's b)."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, x):
        return x + ops.cast(self.bias, x.dtype)


BODIES = {"recurrent": recurrent_body, "transformer": transformer_body}


class SequenceModel(keras.Model):
    """A functional model over token ids that keeps its vocabulary and hyperparameters:
    ``get_config`` returns them and ``from_config`` builds the model again from them, so a
    saved ``model.keras`` comes back whole (the keras-hub backbone pattern)."""

    def keep(self, **hyperparameters: Any) -> None:
        self.hyperparameters = hyperparameters
        for key, value in hyperparameters.items():
            setattr(self, key, value)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyperparameters}

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        return cls(**config)

    @classmethod
    def from_arguments(cls, factory_arguments: dict[str, Any], **kind: str) -> SequenceModel:
        """The model a factory describes: of its keyword arguments (``arguments(locals())``)
        those ``__init__`` takes go to it, the others are the body's ``options``; ``kind``
        chooses the body (``body=`` or ``architecture=``)."""
        given = arguments_for(cls.__init__, factory_arguments)
        options = {key: value for key, value in factory_arguments.items() if key not in given}
        return cls(**kind, **given, options=options)


@keras.saving.register_keras_serializable(package="keras_curriculum")
class CharLanguageModel(SequenceModel):
    """Character ids (batch, T) → next-character probabilities (batch, T, V), with its
    vocabulary. Built functionally from one of :data:`BODIES`; ``get_config`` holds the
    hyperparameters, so ``model.keras`` rebuilds it."""

    def __init__(
        self,
        *,
        body: str,
        vocabulary: Sequence[str] | None = None,
        vocabulary_size: int | None = None,
        sequence_length: int | None = 100,
        options: dict[str, Any] | None = None,
        name: str = "char_lm",
        **kwargs: Any,
    ):
        if vocabulary is None and vocabulary_size is None:
            raise ConfigError("model.vocabulary_size", "needed when the data gives no vocabulary")
        rows = len(vocabulary) if vocabulary is not None else int(vocabulary_size)
        options = dict(options or {})
        if body not in BODIES:
            raise ConfigError("model.body", f"expected one of {sorted(BODIES)}, got {body!r}")
        stateful_batch = options.get("stateful_batch")
        # Any length (up to the Transformer's positions), except for a stateful model, whose
        # batches are fixed.
        length = sequence_length if stateful_batch else None
        if body == "transformer":
            options["sequence_length"] = sequence_length
        inputs = keras.Input(
            shape=(length,), batch_size=stateful_batch, dtype="int32", name="char_ids"
        )
        outputs = BODIES[body](inputs, rows=rows, **options)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        options.pop("sequence_length", None)
        self.keep(
            body=body,
            vocabulary=list(vocabulary) if vocabulary is not None else None,
            vocabulary_size=rows,
            sequence_length=sequence_length,
            options=options,
        )

    def evaluate(self, *args, **kwargs):
        """Keras' evaluate (also ``fit``'s validation), from a zero carried state: a stateful
        model reads the held-out text in order from its start, as the report does."""
        self.reset_state()
        return super().evaluate(*args, **kwargs)

    def reset_state(self) -> None:
        """Zero the state a stateful model carries between batches (the start of a text); a
        no-op for a model without carried state."""
        for layer in self.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()

    def stateless(self) -> CharLanguageModel:
        """This model, or for a stateful one (fixed batch size) a copy with the same weights
        that takes any batch and carries no state between calls (for sampling)."""
        if not self.options.get("stateful_batch"):
            return self
        config = self.get_config()
        copy = CharLanguageModel.from_config(
            {**config, "options": {**config["options"], "stateful_batch": None}}
        )
        copy.set_weights(self.get_weights())
        return copy


@register_model("char_rnn_lm")
def char_rnn_lm(
    *,
    vocabulary: Sequence[str] | None = None,
    vocabulary_size: int | None = None,
    sequence_length: int | None = 100,
    cell: Literal["simple", "lstm", "gru"] = "lstm",
    units: Sequence[int] = (256,),
    embedding_dim: int | None = None,
    dropout: float = 0.0,
    stateful_batch: int | None = None,
    name: str = "char_rnn_lm",
) -> keras.Model:
    """Characters → one-hot or embedding → stacked SimpleRNN/LSTM/GRU → next-character softmax.

    Args:
        vocabulary: the characters, id order (filled in from the data; saved with the model).
        vocabulary_size: the number of characters when no vocabulary is given (the notes' own
            models: one-hot 65 or 141).
        sequence_length: window length (the input takes any length unless stateful).
        cell: ``simple``, ``lstm`` or ``gru``.
        units: one recurrent layer per entry, stacked, each returning every step.
        embedding_dim: a learned embedding of this width; None feeds one-hot vectors.
        dropout: dropout on each recurrent layer's inputs.
        stateful_batch: truncated BPTT: keep the state across batches of this fixed size.
        name: the model's name.
    """
    units = [int(u) for u in units]  # saved in the config as a JSON list
    return CharLanguageModel.from_arguments(arguments(locals()), body="recurrent")


@register_model("char_transformer_lm")
def char_transformer_lm(
    *,
    vocabulary: Sequence[str] | None = None,
    vocabulary_size: int | None = None,
    sequence_length: int = 100,
    model_dim: int = 128,
    num_blocks: int = 2,
    num_heads: int = 4,
    feed_forward_dim: int = 512,
    dropout: float = 0.1,
    norm: Norm = "pre",
    positions: Literal["learned", "sinusoidal"] = "learned",
    tie_weights: bool = False,
    name: str = "char_transformer_lm",
) -> keras.Model:
    """Characters → token + position embeddings → causal Transformer decoder → softmax.

    Args:
        vocabulary: the characters, id order (filled in from the data; saved with the model).
        vocabulary_size: the number of characters when no vocabulary is given.
        sequence_length: the number of positions (the longest context).
        model_dim: the width d of embeddings and blocks.
        num_blocks: decoder blocks.
        num_heads: attention heads per block (they divide ``model_dim``).
        feed_forward_dim: hidden width of the position-wise network.
        dropout: on embeddings, attention weights and sub-layer outputs.
        norm: ``pre`` (LN inside the residual branch) or ``post`` (LN after the sum).
        positions: ``learned`` or ``sinusoidal`` position encodings.
        tie_weights: the output projection reuses the token embedding (logits = h Eᵀ + b).
        name: the model's name.
    """
    return CharLanguageModel.from_arguments(arguments(locals()), body="transformer")
