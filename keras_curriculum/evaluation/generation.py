"""Generating sequences from trained models, and scoring them.

Character language models (``char_rnn_lm``, ``char_transformer_lm``) are sampled one character
at a time: the model's distribution p over the next character is sharpened or flattened by a
temperature T, p_T(c) ∝ p(c)^(1/T) (T → 0 is argmax, T = 1 the model itself, T > 1 flatter),
optionally cut to the ``top_k`` most likely characters, and drawn from with a seeded generator,
so a seed gives the same text again. Bits per character is the mean cross-entropy in nats
divided by ln 2.

Encoder–decoder models (``seq2seq_rnn``, ``seq2seq_transformer``) are decoded from ``<SOS>`` to
``<EOS>``: greedily (the most likely token each step) or by beam search (keep the ``beam_width``
most likely prefixes by total log-probability). Both call the model on the source and the
growing target prefix, so they work for any model that is causal over the target.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from keras_curriculum.errors import CurriculumError

SOS, EOS = 2, 3  # seq2seq token ids: <PAD>, <UNK>, <SOS>, <EOS> come first


# ---------------------------------------------------------------------------------------------
# bits per character


def bits_per_character(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Mean −log₂ p(target) over every position: ``probabilities`` (…, V), ``targets`` (…)."""
    picked = np.take_along_axis(probabilities, targets[..., None].astype(np.int64), axis=-1)
    return float(-np.mean(np.log2(np.clip(picked, 1e-12, 1.0))))


def nats_to_bits(cross_entropy_nats: float) -> float:
    """A mean cross-entropy in nats (a Keras loss) as bits: ÷ ln 2."""
    return cross_entropy_nats / math.log(2)


def compressed_bits_per_character(compress, train: bytes, test: bytes) -> float:
    """A compressor's bits per character on ``test`` given ``train`` as context:
    8·(|c(train + test)| − |c(train)|) / |test|."""
    return 8 * (len(compress(train + test)) - len(compress(train))) / len(test)


# ---------------------------------------------------------------------------------------------
# character sampling


def _predict(model, inputs):
    """One forward pass in inference mode through Keras' compiled predict step (traced once
    for inputs of any length, unlike an eager call, which costs a Python loop per step)."""
    return model.predict_on_batch(inputs)


def encode_prompt(prompt: str, vocabulary: Sequence[str]) -> list[int]:
    """Character ids of ``prompt``; a character outside the vocabulary is a one-line error."""
    index = {char: i for i, char in enumerate(vocabulary)}
    unknown = sorted({char for char in prompt if char not in index})
    if unknown:
        shown = ", ".join(repr(char) for char in unknown[:5])
        raise CurriculumError(f"the prompt has characters the model never saw in training: {shown}")
    return [index[char] for char in prompt]


def next_token(
    probabilities: np.ndarray,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> int:
    """One draw from p^(1/T), renormalised, over the ``top_k`` most likely tokens (all when
    None); ``temperature`` 0 returns the argmax."""
    if temperature < 0:
        raise CurriculumError(f"temperature must be ≥ 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise CurriculumError(f"top-k must be ≥ 1, got {top_k}")
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if temperature == 0 or top_k == 1:
        return int(np.argmax(probabilities))
    logits = np.log(np.clip(probabilities, 1e-30, None)) / temperature
    if top_k is not None and top_k < len(logits):
        cut = np.partition(logits, -top_k)[-top_k]
        logits = np.where(logits >= cut, logits, -np.inf)
    weights = np.exp(logits - logits.max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def sample_ids(
    model,
    prompt_ids: Sequence[int],
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = 0,
    context: int | None = None,
) -> Iterator[int]:
    """Yields ``length`` sampled character ids after ``prompt_ids``, one at a time (for
    streaming). The model sees the last ``context`` characters (default: its window)."""
    if not prompt_ids:
        raise CurriculumError("the prompt is empty: give at least one character")
    rng = np.random.default_rng(seed)
    context = context or getattr(model, "sequence_length", None) or 100
    ids = list(prompt_ids)
    for _ in range(length):
        window = np.asarray([ids[-context:]], dtype=np.int32)
        probabilities = np.asarray(_predict(model, window))[0, -1]
        ids.append(next_token(probabilities, rng, temperature=temperature, top_k=top_k))
        yield ids[-1]


def sample_text(model, prompt: str, length: int, **options) -> str:
    """``prompt`` followed by ``length`` sampled characters (options as :func:`sample_ids`)."""
    vocabulary = model.vocabulary
    ids = sample_ids(model, encode_prompt(prompt, vocabulary), length, **options)
    return prompt + "".join(vocabulary[i] for i in ids)


# ---------------------------------------------------------------------------------------------
# sequence-to-sequence decoding


def _step_probabilities(model, source_ids: np.ndarray, prefixes: np.ndarray) -> np.ndarray:
    return np.asarray(_predict(model, [source_ids, prefixes]))[:, -1]


def greedy_decode(model, source_ids: np.ndarray, max_length: int | None = None) -> np.ndarray:
    """(batch, ≤ max_length) token ids, the argmax at every step, 0 after each ``<EOS>``
    (which is kept)."""
    source_ids = np.asarray(source_ids, dtype=np.int32)
    max_length = max_length or model.target_length
    prefixes = np.full((len(source_ids), 1), SOS, dtype=np.int32)
    done = np.zeros(len(source_ids), dtype=bool)
    for _ in range(max_length):
        chosen = _step_probabilities(model, source_ids, prefixes).argmax(-1).astype(np.int32)
        chosen = np.where(done, 0, chosen)
        prefixes = np.concatenate([prefixes, chosen[:, None]], axis=1)
        done |= chosen == EOS
        if done.all():
            break
    return prefixes[:, 1:]


def beam_search(
    model, source_ids: Sequence[int], *, beam_width: int = 4, max_length: int | None = None
) -> list[tuple[list[int], float]]:
    """The ``beam_width`` best (tokens ending in <EOS>, log-probability) for one source,
    best first. Each step extends every live prefix by every token and keeps the
    ``beam_width`` highest totals; a prefix that writes <EOS> is finished."""
    max_length = max_length or model.target_length
    source = np.asarray(source_ids, dtype=np.int32)[None, :]
    beams: list[tuple[list[int], float]] = [([SOS], 0.0)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_length):
        prefixes = np.asarray([tokens for tokens, _ in beams], dtype=np.int32)
        log_p = np.log(
            np.clip(
                _step_probabilities(model, np.repeat(source, len(beams), 0), prefixes), 1e-30, 1
            )
        )
        totals = np.asarray([score for _, score in beams])[:, None] + log_p
        best = np.argsort(totals, axis=None)[::-1][:beam_width]
        beams = []
        for flat in best:
            row, token = divmod(int(flat), totals.shape[1])
            candidate = ([*prefixes[row].tolist(), token], float(totals[row, token]))
            (finished if token == EOS else beams).append(candidate)
        if len(finished) >= beam_width or not beams:
            break
    ranked = sorted(finished or beams, key=lambda item: -item[1])[:beam_width]
    return [(tokens[1:], score) for tokens, score in ranked]


def ids_to_text(ids: Sequence[int], vocabulary: Sequence[str]) -> str:
    """The characters of ``ids`` up to the first <EOS> (specials other than <UNK> dropped)."""
    characters = []
    for token in ids:
        if token == EOS:
            break
        if token == 1 or token > EOS:
            characters.append(vocabulary[token])
    return "".join(characters)


def exact_match(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per example: whether the decoded ids equal the target ids up to and including <EOS>."""
    matches = []
    for row, target in zip(predicted, targets, strict=True):
        target = list(target)
        end = target.index(EOS) + 1 if EOS in target else len(target)
        row = list(row) + [0] * max(0, end - len(row))
        matches.append(row[:end] == target[:end])
    return np.asarray(matches)


def sequence_accuracy(model, dataset, *, max_batches: int | None = None) -> float:
    """Greedy exact-match accuracy over a seq2seq ``tf.data`` split ((source, decoder), target,
    weight)."""
    matches = []
    for index, ((source_ids, _decoder), targets, *_rest) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        decoded = greedy_decode(model, np.asarray(source_ids))
        matches.append(exact_match(decoded, np.asarray(targets)))
    return float(np.concatenate(matches).mean()) if matches else float("nan")
