"""Word2vec: word vectors learnt by predicting words from their neighbours (Mikolov et al. 2013).

The notes (000; 001 §23; 002 §9.1) present word2vec as a one-hot input, a linear hidden layer
and a |V|-way softmax output: **CBOW** predicts a word from the average of its context, and
**skip-gram** predicts each context word from the centre word. The hidden layer's weights
(one row per word) are the word vectors; the famous check is v_king − v_man + v_woman ≈
v_queen.

The one-hot product is a table lookup, so both models are two ``Embedding`` tables: the
*word vectors* ``v`` (the input side, the vectors we keep) and the *context vectors* ``u``
(the output side). The |V|-way softmax costs O(|V|) per example; **negative sampling**
replaces it with k + 1 binary decisions: is ``c`` the true neighbour of ``w``, or one of k
words drawn from the unigram distribution^0.75?

    loss = −log σ(u_c · h) − Σ_{i=1..k} log σ(−u_{n_i} · h)

with h = v_w for skip-gram and h = mean of v over the context window for CBOW. The model
outputs the k + 1 scores ``u · h`` (logits) and is trained with binary cross-entropy against
``[1, 0, …, 0]``: a plain Keras model, trained by the shared trainer with sparse SGD. The
examples come from ``datasets/word2vec_corpus.py``; index 0 of the vocabulary is padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np
from keras import ops

from keras_curriculum.models.base import FunctionalModel, arguments
from keras_curriculum.registry import register_model


def word_tables(vocabulary_size: int, embedding_dim: int) -> tuple[keras.layers.Layer, ...]:
    """Word2vec.c's initialisation: word vectors uniform in ±0.5/dim, context vectors zero."""
    half_range = 0.5 / embedding_dim
    word_vectors = keras.layers.Embedding(
        vocabulary_size,
        embedding_dim,
        embeddings_initializer=keras.initializers.RandomUniform(-half_range, half_range),
        name="word_vectors",
    )
    context_vectors = keras.layers.Embedding(
        vocabulary_size, embedding_dim, embeddings_initializer="zeros", name="context_vectors"
    )
    return word_vectors, context_vectors


def context_average(vectors, context_ids):
    """CBOW's hidden layer: the mean word vector of the window (padding id 0 excluded).

    As in word2vec.c (and gensim's ``cbow_mean=1``), every context word receives the *whole*
    gradient of the mean, not 1/n of it: the forward pass is the mean, the backward pass that
    of the sum (otherwise the word vectors would learn n times slower than in word2vec).
    """
    present = ops.cast(ops.not_equal(context_ids, 0), vectors.dtype)[..., None]
    total = ops.sum(vectors * present, axis=-2)
    mean = total / ops.maximum(ops.sum(present, axis=-2), 1.0)
    return total - ops.stop_gradient(total - mean)


def negative_sampling_scores(hidden, candidate_vectors):
    """The logits u · h of the true word (column 0) and the k negatives, in float32."""
    scores = ops.einsum("bcd,bckd->bck", hidden, candidate_vectors)
    return ops.cast(scores, "float32")


@register_model("word2vec")
@keras.saving.register_keras_serializable(package="keras_curriculum")
class Word2Vec(FunctionalModel):
    """Skip-gram or CBOW with negative sampling; outputs ``[batch, chunk, 1 + k]`` logits.

    The data come in chunks of examples, so each input has a chunk axis after the batch axis:
    ``target`` (the centre word), ``context`` (one word for skip-gram, the 0-padded window
    for CBOW) and ``negatives`` (k words). :meth:`word_embeddings` gives the learned vectors.

    Args:
        vocabulary_size: rows of both tables, padding (id 0) included; from the dataset.
        architecture: 'skipgram' (predict each context word from the centre word) or 'cbow'
            (predict the centre word from the mean of its context); the data's examples
            follow it.
        embedding_dim: width of the word and context vectors.
        name: the model's name (default ``word2vec_<architecture>``).
    """

    def __init__(
        self,
        *,
        vocabulary_size: int,
        architecture: Literal["skipgram", "cbow"] = "skipgram",
        embedding_dim: int = 100,
        name: str | None = None,
        **kwargs: Any,
    ):
        hyperparameters = arguments(locals())
        # === Layers ===
        word_vectors, context_vectors = word_tables(vocabulary_size, embedding_dim)

        # === Functional Model ===
        target = keras.Input(shape=(None,), dtype="int32", name="target")
        context_shape = (None,) if architecture == "skipgram" else (None, None)
        context = keras.Input(shape=context_shape, dtype="int32", name="context")
        negatives = keras.Input(shape=(None, None), dtype="int32", name="negatives")
        if architecture == "skipgram":
            hidden = word_vectors(target)
            predicted = context
        else:
            hidden = context_average(word_vectors(context), context)
            predicted = target
        candidates = ops.concatenate([ops.expand_dims(predicted, -1), negatives], axis=-1)
        scores = negative_sampling_scores(hidden, context_vectors(candidates))
        super().__init__(
            inputs={"target": target, "context": context, "negatives": negatives},
            outputs=scores,
            name=name or f"word2vec_{architecture}",
            **kwargs,
        )

        # === Config ===
        self.word_vectors = word_vectors
        self.hyperparameters = hyperparameters

    def word_embeddings(self, vocabulary: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The word vectors v of ``vocabulary`` without the padding row 0 (the report
        interface)."""
        table = ops.convert_to_numpy(self.word_vectors.embeddings)
        return list(vocabulary[1:]), table[1 : len(vocabulary)]


def from_legacy(model: keras.Model) -> keras.Model:
    """A ``model.keras`` written before :class:`Word2Vec` existed loads as a plain functional
    model named ``word2vec_<architecture>``: the same graph, so the same weights move into a
    :class:`Word2Vec`. Any other model is returned as it is."""
    if type(model) is not keras.Model and type(model).__name__ != "Functional":
        return model
    architecture = model.name.removeprefix("word2vec_")
    if architecture not in ("skipgram", "cbow"):
        return model
    table = model.get_layer("word_vectors")
    upgraded = Word2Vec(
        vocabulary_size=table.input_dim,
        architecture=architecture,
        embedding_dim=table.output_dim,
        name=model.name,
    )
    upgraded.set_weights(model.get_weights())
    if model.compiled:  # a run's model.keras keeps its loss: `evaluate` needs it back
        upgraded.compile_from_config(model.get_compile_config())
    return upgraded
