"""The word-embedding report: exported vectors and their word-similarity / analogy scores.

After a ``word_embedding`` run (word2vec), the run directory gets
- ``vectors.txt``: the word vectors in the standard word2vec text format (gensim's
  ``KeyedVectors.load_word2vec_format`` reads it; ``keras-curriculum neighbours`` too);
- ``vectors.tsv`` + ``metadata.tsv``: the TensorBoard Embedding Projector's files;
and ``metrics.json`` gets WordSim353 Spearman/Pearson (with the out-of-vocabulary ratio) and
the 3CosAdd analogy accuracy on ``questions-words.txt`` (with the number of questions
covered), when those sets are prepared (``keras-curriculum data prepare wordsim353
questions_words``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from keras_curriculum.datasets.cache import cached_path
from keras_curriculum.evaluation import word_vectors as wv

WORDSIM353 = ("wordsim353", "wordsim353.tsv")
ANALOGIES = ("questions_words", "questions-words.txt")


def trained_vectors(model: keras.Model, vocabulary: list[str]) -> wv.WordVectors:
    """The model's word vectors (``word_embeddings``, see ``keras_curriculum.reports``)."""
    words, table = model.word_embeddings(vocabulary)
    return wv.WordVectors(list(words), table)


def evaluate(vectors: wv.WordVectors) -> dict[str, Any]:
    """WordSim353 and analogy scores for whichever of the two sets is prepared."""
    results: dict[str, Any] = {}
    similarity = cached_path(*WORDSIM353)
    if similarity.exists():
        try:
            results["wordsim353"] = wv.evaluate_word_pairs(vectors, similarity)
        except wv.NoWordPairs:  # a corpus that shares no pair's words (another language, say)
            results["wordsim353"] = {"pairs": 0, "oov_ratio": 100.0}
    analogies = cached_path(*ANALOGIES)
    if analogies.exists():
        scores = wv.evaluate_word_analogies(vectors, analogies)
        results["analogies"] = {k: v for k, v in scores.items() if k != "sections"}
    return results


def embedding_report(model: keras.Model, data, run_dir: Path) -> dict[str, Any]:
    if not callable(getattr(model, "word_embeddings", None)):
        return {}
    vectors = trained_vectors(model, data.info.extras["vocabulary"])
    wv.save_word2vec_format(Path(run_dir) / "vectors.txt", vectors)
    wv.save_projector_files(run_dir, vectors)
    return {"word_vectors": {"words": len(vectors.words), **evaluate(vectors)}}
