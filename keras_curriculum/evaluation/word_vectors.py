"""Word vectors: saving, nearest neighbours, and the two standard evaluations.

- **Word similarity** (WordSim353, Finkelstein et al. 2002): the cosine similarity of each
  word pair against human judgements, as Spearman and Pearson correlations, with the share
  of pairs skipped for out-of-vocabulary words.
- **Analogies** (Mikolov et al. 2013, ``questions-words.txt``): "a is to b as c is to ?",
  answered by 3CosAdd, argmax over the vocabulary (the question words excluded) of
  cos(x, b − a + c) on unit vectors; accuracy over the questions whose four words are known.

Both follow gensim's ``evaluate_word_pairs`` / ``evaluate_word_analogies`` conventions
(upper-cased matching, the ``restrict_vocab`` most frequent words), so figures compare with
gensim's; the computation here is NumPy. Vectors are read and written in the standard
word2vec text format (a ``count dim`` header, then ``word v1 v2 …`` per line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats


@dataclass
class WordVectors:
    """Words (most frequent first) and their vectors, one row per word."""

    words: list[str]
    vectors: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        self.index = {word: i for i, word in enumerate(self.words)}

    @property
    def unit(self) -> np.ndarray:
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.maximum(norms, 1e-12)

    def similarity(self, a: str, b: str) -> float:
        unit = self.unit
        return float(unit[self.index[a]] @ unit[self.index[b]])

    def most_similar(
        self,
        positive: list[str],
        negative: list[str] = (),
        *,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest (cosine) to the mean of the unit vectors of ``positive``
        minus ``negative``, excluding the query words themselves."""
        unknown = [w for w in [*positive, *negative] if w not in self.index]
        if unknown:
            raise KeyError(f"not in the vocabulary: {', '.join(unknown)}")
        unit = self.unit[:restrict_vocab]
        query = np.sum([self.unit[self.index[w]] for w in positive], axis=0)
        if negative:
            query = query - np.sum([self.unit[self.index[w]] for w in negative], axis=0)
        scores = unit @ (query / max(np.linalg.norm(query), 1e-12))
        for word in [*positive, *negative]:
            if self.index[word] < len(scores):
                scores[self.index[word]] = -np.inf
        best = np.argsort(-scores)[:topn]
        return [(self.words[i], float(scores[i])) for i in best]


def save_word2vec_format(path: str | Path, vectors: WordVectors) -> Path:
    """The standard word2vec text format (gensim's ``KeyedVectors.load_word2vec_format``)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"{len(vectors.words)} {vectors.vectors.shape[1]}\n")
        for word, row in zip(vectors.words, vectors.vectors, strict=True):
            handle.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    return path


def load_word2vec_format(path: str | Path) -> WordVectors:
    with Path(path).open(encoding="utf-8") as handle:
        count, dim = (int(n) for n in handle.readline().split())
        words, rows = [], np.empty((count, dim), dtype=np.float32)
        for i, line in enumerate(handle):
            parts = line.rstrip("\n").split(" ")
            words.append(parts[0])
            rows[i] = np.asarray(parts[1 : dim + 1], dtype=np.float32)
    return WordVectors(words, rows)


def save_projector_files(run_dir: str | Path, vectors: WordVectors) -> tuple[Path, Path]:
    """``vectors.tsv`` and ``metadata.tsv`` for the TensorBoard Embedding Projector."""
    run_dir = Path(run_dir)
    np.savetxt(run_dir / "vectors.tsv", vectors.vectors, delimiter="\t", fmt="%.6g")
    (run_dir / "metadata.tsv").write_text("".join(w + "\n" for w in vectors.words), "utf-8")
    return run_dir / "vectors.tsv", run_dir / "metadata.tsv"


def _upper_index(vectors: WordVectors, restrict_vocab: int) -> dict[str, int]:
    """Upper-cased word → index among the ``restrict_vocab`` most frequent words (the most
    frequent case variant wins)."""
    index: dict[str, int] = {}
    for i, word in enumerate(vectors.words[:restrict_vocab]):
        index.setdefault(word.upper(), i)
    return index


class NoWordPairs(ValueError):
    """No pair of a word-similarity set has both words in the vocabulary."""


def evaluate_word_pairs(
    vectors: WordVectors, path: str | Path, *, restrict_vocab: int = 300_000
) -> dict[str, float]:
    """Spearman and Pearson correlation of cosine similarities with the human scores of a
    ``word<TAB>word<TAB>score`` file (``#`` lines are comments); pairs with an unknown word
    are skipped and counted in ``oov_ratio`` (percent)."""
    known = _upper_index(vectors, restrict_vocab)
    unit = vectors.unit
    gold, model, oov = [], [], 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = [p.upper() for p in line.split("\t")]
        if len(parts) != 3:
            continue
        a, b, score = parts
        if a not in known or b not in known:
            oov += 1
            continue
        gold.append(float(score))
        model.append(float(unit[known[a]] @ unit[known[b]]))
    if not gold:
        raise NoWordPairs(f"no word pair of {path} is in the vocabulary")
    return {
        "spearman": float(stats.spearmanr(gold, model)[0]),
        "pearson": float(stats.pearsonr(gold, model)[0]),
        "oov_ratio": 100.0 * oov / (len(gold) + oov),
        "pairs": len(gold),
    }


def evaluate_word_analogies(
    vectors: WordVectors,
    path: str | Path,
    *,
    restrict_vocab: int = 300_000,
    batch: int = 1024,
) -> dict[str, object]:
    """3CosAdd accuracy on a ``questions-words.txt`` file (``: section`` headers, then
    ``a b c d`` lines): the answer is the word nearest to b − a + c among the
    ``restrict_vocab`` most frequent, a, b and c excluded. Questions with a word outside
    those are skipped (``covered`` counts the others)."""
    known = _upper_index(vectors, restrict_vocab)
    questions, sections, total = [], [], 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(": "):
            sections.append(line[2:].strip())
            continue
        words = [w.upper() for w in line.split()]
        if len(words) != 4:
            continue
        total += 1
        if all(w in known for w in words):
            questions.append([known[w] for w in words] + [len(sections) - 1])
    unit = vectors.unit[:restrict_vocab]
    correct = np.zeros(len(questions), dtype=bool)
    ids = np.asarray(questions, dtype=np.int64).reshape(-1, 5)
    for start in range(0, len(ids), batch):
        a, b, c, expected, _ = ids[start : start + batch].T
        query = unit[b] - unit[a] + unit[c]
        query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
        scores = query @ unit.T
        rows = np.arange(len(a))
        for excluded in (a, b, c):
            scores[rows, excluded] = -np.inf
        correct[start : start + batch] = scores.argmax(axis=1) == expected
    per_section = {
        name: float(correct[ids[:, 4] == s].mean())
        for s, name in enumerate(sections)
        if np.any(ids[:, 4] == s)
    }
    return {
        "accuracy": float(correct.mean()) if len(correct) else 0.0,
        "correct": int(correct.sum()),
        "covered": len(questions),
        "questions": total,
        "sections": per_section,
    }
