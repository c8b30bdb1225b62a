"""Encoder–decoder models with attention, for sequence-to-sequence tasks (notes 001 §25.3–6,
002 §9.2–3).

The idea: an encoder reads the source x₁ … x_S into states h₁ … h_S; a decoder writes the target
one token at a time, starting from ``<SOS>`` and stopping at ``<EOS>``, each step conditioned on
the tokens written so far. In training the decoder is fed the true previous token (teacher
forcing): its inputs are ``<SOS>`` + target and its outputs target + ``<EOS>``; ``<PAD>`` steps
carry zero weight in the loss.

Without attention the decoder starts from the encoder's last state and sees nothing else: the
whole source must pass through that one fixed-size vector (the bottleneck, which breaks down on
long sequences). With attention, at each decoder step t with state s_t, every source state gets
a score e_tj, the scores become weights a_t = softmax(e_t) over the source (they sum to one), and
the context c_t = Σ_j a_tj h_j joins s_t in the prediction:

    additive (Bahdanau et al. 2015):  e_tj = vᵀ tanh(W₁ s_t + W₂ h_j)
    general  (Luong et al. 2015):     e_tj = s_tᵀ W h_j
    dot      (Luong et al. 2015):     e_tj = s_tᵀ h_j
    s̃_t = tanh(W_c [c_t; s_t]),   p(y_t | y_<t, x) = softmax(W_o s̃_t + b_o)

(Luong's placement: the decoder's own state is the query; Bahdanau feeds c_t back into the
recurrence, which Keras' recurrent layers do not take step by step.) With one source token the
weights are all 1 and the context is that token's encoder state. A forward encoder's h_j knows
only x₁ … x_j; ``bidirectional`` joins a backward RNN's state (Bahdanau's encoder), so h_j
describes the whole source around position j.

The Transformer encoder–decoder (Vaswani et al. 2017, 002 §9.3) replaces both recurrences by
attention: the encoder blocks of ``transformer.py`` over the source, then decoder blocks of
``char_lm.py`` (causal self-attention, cross-attention to the encoder output, feed-forward).

Decoding (greedy, beam search) lives in ``keras_curriculum.evaluation.generation``: it calls the
model on the source and the growing target prefix. ``alignment`` returns the attention weights
(target step × source token) for plots.
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.errors import ConfigError
from keras_curriculum.models.base import arguments
from keras_curriculum.models.char_lm import SequenceModel, decoder_block
from keras_curriculum.models.layers import output_layer
from keras_curriculum.models.rnn import CELLS
from keras_curriculum.models.transformer import PositionEncoding, encoder_stack
from keras_curriculum.registry import register_model

ATTENTION = ("none", "additive", "general", "dot")
ALIGNMENT = "alignment"  # the layer whose second output is the attention weights


def attention_block(query, values, source_mask, *, score: str, units: int, name: str):
    """(context (batch, T, d), weights (batch, T, S)) of the decoder states ``query`` over the
    encoder states ``values``; ``source_mask`` (batch, S) is False on padding."""
    if score == "additive":
        query = keras.layers.Dense(units, use_bias=False, name=f"{name}_query")(query)
        keys = keras.layers.Dense(units, use_bias=False, name=f"{name}_keys")(values)
        layer = keras.layers.AdditiveAttention(use_scale=True, name=ALIGNMENT)
    else:
        keys = (
            keras.layers.Dense(values.shape[-1], use_bias=False, name=f"{name}_keys")(values)
            if score == "general"
            else values
        )
        layer = keras.layers.Attention(score_mode="dot", name=ALIGNMENT)
    return layer([query, values, keys], mask=[None, source_mask], return_attention_scores=True)


def bidirectional_encoder(x, *, cell: str, units: int, dropout: float):
    """(states (batch, S, units), decoder initial state): a forward and a backward RNN of
    units/2 each, concatenated (Bahdanau et al. 2015's encoder), so that h_j holds the words
    after position j as well as those before it; their final states, concatenated, start the
    decoder."""
    if units % 2:
        raise ConfigError("model.units", f"must be even for a bidirectional encoder, got {units}")
    layer = CELLS[cell](units // 2, return_sequences=True, return_state=True, dropout=dropout)
    encoded = keras.layers.Bidirectional(layer, name=f"encoder_bidirectional_{cell}")(x)
    forward, backward = encoded[1 : 1 + len(encoded) // 2], encoded[1 + len(encoded) // 2 :]
    final_state = [
        keras.layers.Concatenate(name=f"encoder_final_state{index}")([f, b])
        for index, (f, b) in enumerate(zip(forward, backward, strict=True), start=1)
    ]
    return encoded[0], final_state


def recurrent_architecture(
    source_ids,
    decoder_ids,
    *,
    rows: int,
    cell: str,
    units: int,
    embedding_dim: int,
    attention: str,
    dropout: float,
    bidirectional: bool = False,
) -> keras.KerasTensor:
    """Embedding → encoder RNN (states h_j, last state) → decoder RNN from that state →
    (attention) → softmax over the vocabulary at every target step (the options of
    :func:`seq2seq_rnn`)."""
    if cell not in CELLS:
        raise ConfigError("model.cell", f"expected one of {sorted(CELLS)}, got {cell!r}")
    if attention not in ATTENTION:
        raise ConfigError("model.attention", f"expected one of {ATTENTION}, got {attention!r}")
    source_mask = ops.not_equal(source_ids, 0)
    x = keras.layers.Embedding(rows, embedding_dim, mask_zero=True, name="source_embedding")(
        source_ids
    )
    if bidirectional:
        states, final_state = bidirectional_encoder(x, cell=cell, units=units, dropout=dropout)
    else:
        encoded = CELLS[cell](
            units, return_sequences=True, return_state=True, dropout=dropout,
            name=f"encoder_{cell}",
        )(x)  # fmt: skip
        states, final_state = encoded[0], list(encoded[1:])
    y = keras.layers.Embedding(rows, embedding_dim, mask_zero=True, name="target_embedding")(
        decoder_ids
    )
    decoded = CELLS[cell](units, return_sequences=True, dropout=dropout, name=f"decoder_{cell}")(
        y, initial_state=final_state
    )
    if attention != "none":
        context, _weights = attention_block(
            decoded, states, source_mask, score=attention, units=units, name="attention"
        )
        joined = keras.layers.Concatenate(name="context_and_state")([context, decoded])
        decoded = keras.layers.Dense(units, activation="tanh", name="attentional_state")(joined)
    return output_layer(rows, "softmax")(decoded)


def transformer_architecture(
    source_ids,
    decoder_ids,
    *,
    rows: int,
    source_length: int,
    target_length: int,
    model_dim: int,
    num_blocks: int,
    num_heads: int,
    feed_forward_dim: int,
    dropout: float,
) -> keras.KerasTensor:
    """Encoder blocks over the source; causal decoder blocks with cross-attention; softmax (the
    options of :func:`seq2seq_transformer`)."""
    if model_dim % num_heads:
        raise ConfigError("model.num_heads", f"must divide model_dim = {model_dim}")
    key_padding_mask = ops.expand_dims(ops.not_equal(source_ids, 0), axis=1)  # (batch, 1, S)
    x = keras.layers.Embedding(rows, model_dim, name="source_embedding")(source_ids)
    x = PositionEncoding(source_length, name="source_positions")(x)
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    x = encoder_stack(
        x,
        key_padding_mask,
        num_blocks=num_blocks,
        num_heads=num_heads,
        feed_forward_dim=feed_forward_dim,
        dropout=dropout,
        attention_dropout=0.0,
        prefix="encoder",
    )
    y = keras.layers.Embedding(rows, model_dim, name="target_embedding")(decoder_ids)
    y = PositionEncoding(target_length, name="target_positions")(y)
    y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    for index in range(1, num_blocks + 1):
        y = decoder_block(
            y,
            num_heads=num_heads,
            feed_forward_dim=feed_forward_dim,
            dropout=dropout,
            norm="post",
            name=f"decoder{index}",
            memory=x,
            memory_mask=key_padding_mask,
        )
    return output_layer(rows, "softmax")(y)


ARCHITECTURES = {"recurrent": recurrent_architecture, "transformer": transformer_architecture}


@keras.saving.register_keras_serializable(package="keras_curriculum")
class Seq2Seq(SequenceModel):
    """(source ids (batch, S), decoder ids (batch, T)) → next-token probabilities (batch, T, V),
    with its vocabulary (``<PAD>``, ``<UNK>``, ``<SOS>``, ``<EOS>`` first). Built functionally;
    ``get_config`` holds the hyperparameters."""

    def __init__(
        self,
        *,
        architecture: str,
        vocabulary: list[str] | None = None,
        vocabulary_size: int | None = None,
        source_length: int = 32,
        target_length: int = 32,
        options: dict[str, Any] | None = None,
        name: str = "seq2seq",
        **kwargs: Any,
    ):
        if vocabulary is None and vocabulary_size is None:
            raise ConfigError("model.vocabulary_size", "needed when the data gives no vocabulary")
        rows = len(vocabulary) if vocabulary is not None else int(vocabulary_size)
        options = dict(options or {})
        extra = (
            {"source_length": source_length, "target_length": target_length}
            if architecture == "transformer"
            else {}
        )
        source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
        decoder_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_ids")
        outputs = ARCHITECTURES[architecture](
            source_ids, decoder_ids, rows=rows, **options, **extra
        )
        super().__init__(inputs=[source_ids, decoder_ids], outputs=outputs, name=name, **kwargs)
        self.keep(
            architecture=architecture,
            vocabulary=list(vocabulary) if vocabulary is not None else None,
            vocabulary_size=rows,
            source_length=source_length,
            target_length=target_length,
            options=options,
        )

    def alignment(self, source_ids: np.ndarray, decoder_ids: np.ndarray) -> np.ndarray:
        """Attention weights (batch, T, S) of each decoder step over the source tokens (the
        last decoder block's cross-attention, averaged over heads, for a Transformer); each row
        sums to 1. Raises ValueError for a model without attention."""
        if self.architecture == "transformer":
            name = f"decoder{self.options.get('num_blocks', 2)}_cross_attention"
        else:
            name = ALIGNMENT
        try:
            layer = self.get_layer(name)
        except ValueError:
            raise ValueError(f"model '{self.name}' has no attention") from None
        probe = keras.Model(self.inputs, layer.output[1])
        weights = np.asarray(probe([source_ids, decoder_ids], training=False))
        return weights.mean(axis=1) if weights.ndim == 4 else weights


@register_model("seq2seq_rnn")
def seq2seq_rnn(
    *,
    vocabulary: list[str] | None = None,
    vocabulary_size: int | None = None,
    source_length: int = 32,
    target_length: int = 32,
    cell: Literal["simple", "lstm", "gru"] = "gru",
    units: int = 128,
    embedding_dim: int = 32,
    attention: Literal["none", "additive", "general", "dot"] = "additive",
    dropout: float = 0.0,
    bidirectional: bool = False,
    name: str = "seq2seq_rnn",
) -> keras.Model:
    """GRU/LSTM encoder–decoder, teacher forcing; attention none/additive/general/dot.

    Args:
        vocabulary: the tokens, id order, specials first (filled in from the data).
        vocabulary_size: the number of tokens when no vocabulary is given.
        source_length: the longest source (from the data; recorded for decoding).
        target_length: the longest target + <EOS> (from the data; the decoding limit).
        cell: ``gru``, ``lstm`` or ``simple``, for encoder and decoder.
        units: state width of encoder and decoder.
        embedding_dim: width of the source and target embeddings.
        attention: ``none`` (the fixed-vector bottleneck), ``additive`` (Bahdanau),
            ``general`` or ``dot`` (Luong).
        dropout: on the recurrent layers' inputs.
        bidirectional: encode with a forward and a backward RNN of ``units``/2 each.
        name: the model's name.
    """
    return Seq2Seq.from_arguments(arguments(locals()), architecture="recurrent")


@register_model("seq2seq_transformer")
def seq2seq_transformer(
    *,
    vocabulary: list[str] | None = None,
    vocabulary_size: int | None = None,
    source_length: int = 32,
    target_length: int = 32,
    model_dim: int = 128,
    num_blocks: int = 2,
    num_heads: int = 4,
    feed_forward_dim: int = 256,
    dropout: float = 0.1,
    name: str = "seq2seq_transformer",
) -> keras.Model:
    """Transformer encoder–decoder (post-norm, learned positions), teacher forcing.

    Args:
        vocabulary: the tokens, id order, specials first (filled in from the data).
        vocabulary_size: the number of tokens when no vocabulary is given.
        source_length: the source positions (the longest source).
        target_length: the target positions (the longest target + <EOS>).
        model_dim: width of embeddings and blocks.
        num_blocks: encoder blocks, and as many decoder blocks.
        num_heads: attention heads (they divide ``model_dim``).
        feed_forward_dim: hidden width of the position-wise networks.
        dropout: on embeddings, attention and sub-layer outputs.
        name: the model's name.
    """
    return Seq2Seq.from_arguments(arguments(locals()), architecture="transformer")
