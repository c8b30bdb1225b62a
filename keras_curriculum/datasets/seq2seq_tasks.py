"""Synthetic sequence-to-sequence tasks, character by character (notes 001 §25.3–6, 002 §9.2).

No translation corpus ships in a package registry, so the encoder–decoder lessons use three
generated tasks, named as such:

- ``seq2seq_addition``: "535+61" → "596", the keras-io ``addition_rnn`` task (operands of 1 to
  ``digits`` digits; ``reverse_source`` reverses the question as keras-io does). Held-out sums
  are operand pairs that never occur in training (in either order).
- ``seq2seq_reversal``: a random string of ``length`` letters → the same string backwards. With
  no attention the decoder must recover the whole string from one fixed-size vector, which
  fails as the length grows (Bahdanau et al. 2015).
- ``seq2seq_dates``: a date written in one of many real locale formats → ISO 8601 ("3. März
  2021", "March 3, 2021", "3/3/21" → "2021-03-03"). Formats and month names are CLDR's, from
  Babel; validation and test dates come from year ranges that training never sees (by default
  2017–2019 and 2022–2026, inside 1950–2049, so every digit of a held-out year occurs in its
  place in training; ``test_years: [2020, 2029]`` holds out a whole decade, whose "202" the
  decoder has never written). Numeric formats that could read as another date in a kept
  format (M/d/yy beside d/M/yy) are left out, so every source string has one answer.

Every example is character ids over one vocabulary: ``<PAD>`` (0), ``<UNK>`` (1), ``<SOS>`` (2),
``<EOS>`` (3), then the training characters. Inputs are (source ids, decoder ids) with the
decoder ids ``<SOS>`` + target (teacher forcing); targets are target + ``<EOS>``; a sample weight
of 0 marks target padding so that it never counts in the loss or the accuracy.
"""

from __future__ import annotations

import datetime
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

PAD, UNK, SOS, EOS = "<PAD>", "<UNK>", "<SOS>", "<EOS>"
SPECIALS = (PAD, UNK, SOS, EOS)
Pairs = list[tuple[str, str]]


def vocabulary_of(pairs: Pairs) -> list[str]:
    """The four special tokens, then every character of the sources and targets, sorted."""
    characters = {char for source, target in pairs for char in source + target}
    return [*SPECIALS, *sorted(characters)]


def encode_strings(strings: Sequence[str], vocabulary: Sequence[str], length: int) -> np.ndarray:
    """(len(strings), length) ids, padded with 0; unknown characters become ``<UNK>``."""
    index = {token: i for i, token in enumerate(vocabulary)}
    ids = np.zeros((len(strings), length), dtype=np.int32)
    for row, string in enumerate(strings):
        ids[row, : len(string)] = [index.get(char, 1) for char in string[:length]]
    return ids


def seq2seq_split(
    pairs: Pairs, vocabulary: Sequence[str], source_length: int, target_length: int
) -> tf.data.Dataset:
    """((source ids, decoder ids), target ids, weights): decoder ids = <SOS> + target, target
    ids = target + <EOS>, weights 1 on real target steps."""
    sources = encode_strings([s for s, _ in pairs], vocabulary, source_length)
    targets = encode_strings([t for _, t in pairs], vocabulary, target_length)
    lengths = np.array([min(len(t), target_length - 1) for _, t in pairs])
    steps = np.arange(target_length)[None, :]
    targets = np.where(steps == lengths[:, None], SPECIALS.index(EOS), targets)
    decoder = np.concatenate(
        [np.full((len(pairs), 1), SPECIALS.index(SOS), np.int32), targets[:, :-1]], axis=1
    )
    decoder = np.where(decoder == SPECIALS.index(EOS), 0, decoder)
    weights = (steps <= lengths[:, None]).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(((sources, decoder), targets, weights))


def seq2seq_description(train: Pairs, validation: Pairs, test: Pairs) -> Description:
    """A ``seq2seq`` :class:`Description`: the training characters' vocabulary; lengths fit
    the longest source and target + <EOS>. The strings are cheap to make: the id arrays and
    pipelines are what a description leaves out."""
    vocabulary = vocabulary_of(train)
    everything = train + validation + test
    source_length = max(len(s) for s, _ in everything)
    target_length = max(len(t) for _, t in everything) + 1
    return Description(
        input_shape=(source_length,),
        num_classes=len(vocabulary),
        task="seq2seq",
        extras={
            "vocabulary": vocabulary,
            "source_length": source_length,
            "target_length": target_length,
        },
    )


def seq2seq_source(train: Pairs, validation: Pairs, test: Pairs) -> Source:
    """A ``seq2seq`` :class:`Source` of :func:`seq2seq_description`'s fields."""
    description = seq2seq_description(train, validation, test)
    lengths = (description.extras["source_length"], description.extras["target_length"])
    vocabulary = description.extras["vocabulary"]
    return description.source(
        train=seq2seq_split(train, vocabulary, *lengths),
        validation=seq2seq_split(validation, vocabulary, *lengths) if validation else None,
        test=seq2seq_split(test, vocabulary, *lengths),
    )


def _sizes(train_size: int, validation_size: int, test_size: int) -> None:
    for field, value in (
        ("train_size", train_size),
        ("validation_size", validation_size),
        ("test_size", test_size),
    ):
        if value < 0 or (field != "validation_size" and value < 1):
            raise ConfigError(f"data.{field}", f"expected a positive count, got {value}")


# ---------------------------------------------------------------------------------------------
# addition


def addition_pairs(
    digits: int, count: int, rng: np.random.Generator, exclude: set | None = None
) -> tuple[Pairs, set]:
    """``count`` distinct questions "a+b" → "a+b's sum", operands of 1..``digits`` digits
    (drawn as keras-io does); the unordered operand pairs used are returned too."""
    seen = set(exclude or ())
    used: set = set()
    pairs: Pairs = []
    possible = (10**digits) * (10**digits + 1) // 2 - len(seen)
    if count > possible:
        raise ConfigError("data.train_size", f"only {possible:,} distinct sums of {digits} digits")
    while len(pairs) < count:
        a, b = (
            int("".join(rng.choice(list("0123456789"), rng.integers(1, digits + 1)))) for _ in "ab"
        )
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        used.add(key)
        pairs.append((f"{a}+{b}", str(a + b)))
    return pairs, used


@register_dataset("seq2seq_addition")
def seq2seq_addition(
    *,
    digits: int = 3,
    train_size: int = 50_000,
    validation_size: int = 2_000,
    test_size: int = 5_000,
    reverse_source: bool = False,
    seed: int = 0,
) -> Source:
    """Synthetic: "535+61" → "596" (keras-io addition_rnn); held-out sums never seen in training.

    Args:
        digits: the most digits of either operand (each has 1 to ``digits``).
        train_size: training questions.
        validation_size: validation questions (0: no validation split).
        test_size: test questions.
        reverse_source: reverse each question string, as keras-io does.
        seed: seeds the drawn operands.
    """
    return seq2seq_source(*addition_splits(**locals()))  # every argument above, by name


def addition_splits(
    *,
    digits: int,
    train_size: int,
    validation_size: int,
    test_size: int,
    reverse_source: bool,
    seed: int,
) -> tuple[Pairs, Pairs, Pairs]:
    """The (train, validation, test) question–answer pairs of :func:`seq2seq_addition`."""
    _sizes(train_size, validation_size, test_size)
    rng = np.random.default_rng(seed)
    train, used = addition_pairs(digits, train_size, rng)
    validation, more = addition_pairs(digits, validation_size, rng, used)
    test, _ = addition_pairs(digits, test_size, rng, used | more)
    if reverse_source:
        train, validation, test = (
            [(s[::-1], t) for s, t in split] for split in (train, validation, test)
        )
    return train, validation, test


# ---------------------------------------------------------------------------------------------
# reversal


@register_dataset("seq2seq_reversal")
def seq2seq_reversal(
    *,
    length: int = 20,
    alphabet: str = "abcdefghijklmnopqrstuvwxyz",
    train_size: int = 20_000,
    validation_size: int = 1_000,
    test_size: int = 2_000,
    seed: int = 0,
) -> Source:
    """Synthetic: a random string of ``length`` letters → the string reversed.

    Args:
        length: letters in every string.
        alphabet: the letters drawn from (uniformly; repeats are ignored).
        train_size: training strings.
        validation_size: validation strings (0: no validation split).
        test_size: test strings.
        seed: seeds the drawn strings.
    """
    return seq2seq_source(*reversal_splits(**locals()))  # every argument above, by name


def reversal_splits(
    *, length: int, alphabet: str, train_size: int, validation_size: int, test_size: int, seed: int
) -> tuple[Pairs, Pairs, Pairs]:
    """The (train, validation, test) string pairs of :func:`seq2seq_reversal`."""
    _sizes(train_size, validation_size, test_size)
    if length < 1 or len(set(alphabet)) < 2:
        raise ConfigError("data.length", "expected a length ≥ 1 and an alphabet of ≥ 2 letters")
    rng = np.random.default_rng(seed)
    letters = np.array(sorted(set(alphabet)))
    total = train_size + validation_size + test_size
    strings = ["".join(row) for row in rng.choice(letters, size=(total, length))]
    pairs = [(s, s[::-1]) for s in strings]
    return (
        pairs[:train_size],
        pairs[train_size : train_size + validation_size],
        pairs[train_size + validation_size :],
    )


# ---------------------------------------------------------------------------------------------
# dates

# Latin-script CLDR locales; each contributes its short, medium, long and full date formats.
DATE_LOCALES = (
    "en_US", "en_GB", "en_AU", "de_DE", "de_AT", "fr_FR", "fr_CA", "es_ES", "es_MX", "it_IT",
    "pt_BR", "pt_PT", "nl_NL", "sv_SE", "da_DK", "nb_NO", "fi_FI", "pl_PL", "cs_CZ", "hu_HU",
    "ro_RO", "tr_TR", "id_ID", "ca_ES", "hr_HR", "sk_SK", "sl_SI", "lt_LT", "et_EE", "ga_IE",
)  # fmt: skip
DATE_STYLES = ("short", "medium", "long", "full")
DATE_YEARS = (1950, 2049)  # every split's dates; validation and test years are cut out of it
VALIDATION_YEARS = (2017, 2019)
TEST_YEARS = (2022, 2026)
# Every day of these years is written in each format to find formats that clash: a leap year,
# and one whose two-digit year is also a day and a month.
_PROBE_YEARS = (2001, 2012)


@functools.lru_cache(maxsize=4)
def date_formats(locales: tuple[str, ...] = DATE_LOCALES) -> tuple[tuple[str, str], ...]:
    """(locale, CLDR pattern) pairs in which no date string can be read as another date: a
    format is kept only if, over every day of the probe years, none of its strings is a kept
    format's string for a different date."""
    from babel.dates import format_date, get_date_format

    days = [
        datetime.date(year, 1, 1) + datetime.timedelta(days=n)
        for year in _PROBE_YEARS
        for n in range(366 if year % 4 == 0 else 365)
    ]
    meaning: dict[str, datetime.date] = {}
    kept: list[tuple[str, str]] = []
    for locale in locales:
        for style in DATE_STYLES:
            pattern = get_date_format(style, locale=locale).pattern
            if (locale, pattern) in kept:
                continue
            strings = {format_date(day, pattern, locale=locale): day for day in days}
            if len(strings) < len(days) or any(
                meaning.get(text, day) != day for text, day in strings.items()
            ):
                continue
            meaning.update(strings)
            kept.append((locale, pattern))
    return tuple(kept)


def date_pairs(
    ranges: Sequence[tuple[datetime.date, datetime.date]],
    count: int,
    formats: Sequence[tuple[str, str]],
    rng: np.random.Generator,
) -> Pairs:
    """``count`` (written date, ISO date) pairs: days uniform over ``ranges`` (first and last
    day), formats uniform."""
    from babel.dates import format_date

    spans = np.array([(end - start).days + 1 for start, end in ranges])
    chosen_range = rng.choice(len(ranges), size=count, p=spans / spans.sum())
    pairs: Pairs = []
    for r in chosen_range:
        start, _end = ranges[r]
        day = start + datetime.timedelta(days=int(rng.integers(spans[r])))
        locale, pattern = formats[rng.integers(len(formats))]
        pairs.append((format_date(day, pattern, locale=locale), day.isoformat()))
    return pairs


def year_splits(
    validation_years: Sequence[int], test_years: Sequence[int]
) -> tuple[list[tuple[datetime.date, datetime.date]], ...]:
    """(train, validation, test) date ranges: the held-out years (first, last) and the rest of
    :data:`DATE_YEARS`."""
    held = {}
    for field, years in (("validation_years", validation_years), ("test_years", test_years)):
        pair = list(years) if isinstance(years, (list, tuple)) else [years]
        if not (
            len(pair) == 2
            and all(isinstance(year, int) for year in pair)
            and DATE_YEARS[0] <= pair[0] <= pair[1] <= DATE_YEARS[1]
        ):
            first, last = DATE_YEARS
            raise ConfigError(
                f"data.{field}", f"expected [first, last] in {first}–{last}, got {years}"
            )
        held[field] = (int(years[0]), int(years[1]))
    (v0, v1), (t0, t1) = held["validation_years"], held["test_years"]
    if v0 <= t1 and t0 <= v1:
        raise ConfigError("data.test_years", "validation and test years overlap")
    kept, start = [], DATE_YEARS[0]
    for first, last in sorted(held.values()):
        if start < first:
            kept.append((start, first - 1))
        start = last + 1
    if start <= DATE_YEARS[1]:
        kept.append((start, DATE_YEARS[1]))

    def dates(spans):
        return [(datetime.date(a, 1, 1), datetime.date(b, 12, 31)) for a, b in spans]

    return dates(kept), dates([held["validation_years"]]), dates([held["test_years"]])


@register_dataset("seq2seq_dates")
def seq2seq_dates(
    *,
    train_size: int = 50_000,
    validation_size: int = 2_000,
    test_size: int = 5_000,
    validation_years: Sequence[int] = VALIDATION_YEARS,
    test_years: Sequence[int] = TEST_YEARS,
    locales: Sequence[str] = DATE_LOCALES,
    seed: int = 0,
) -> Source:
    """Synthetic: dates in CLDR locale formats (Babel) → ISO 8601; held-out years unseen.

    Args:
        train_size: training dates (the years of 1950–2049 not held out).
        validation_size: validation dates (0: no validation split).
        test_size: test dates.
        validation_years: first and last year of the validation dates.
        test_years: first and last year of the test dates.
        locales: the CLDR locales whose date formats are used.
        seed: seeds the drawn dates and formats.
    """
    return seq2seq_source(*dates_splits(**locals()))  # every argument above, by name


def dates_splits(
    *,
    train_size: int,
    validation_size: int,
    test_size: int,
    validation_years: Sequence[int],
    test_years: Sequence[int],
    locales: Sequence[str],
    seed: int,
) -> tuple[Pairs, Pairs, Pairs]:
    """The (train, validation, test) date pairs of :func:`seq2seq_dates`."""
    _sizes(train_size, validation_size, test_size)
    ranges = year_splits(validation_years, test_years)
    try:
        formats = date_formats(tuple(locales))
    except Exception as error:  # babel's UnknownLocaleError and friends
        raise ConfigError("data.locales", str(error).splitlines()[0]) from None
    rng = np.random.default_rng(seed)
    sizes = (train_size, validation_size, test_size)
    return tuple(date_pairs(r, n, formats, rng) for r, n in zip(ranges, sizes, strict=True))


def describe_with(loader: Callable[..., Source], splits: Callable[..., tuple[Pairs, Pairs, Pairs]]):
    """Registers the description of ``loader``: its options (with its defaults) give
    ``splits``' strings, whose vocabulary and lengths describe the data. Making the strings
    is cheap (seconds for the dates' Babel formatting); the id arrays and pipelines are not
    made."""
    signature = inspect.signature(loader)

    def describe(**options: Any) -> Description:
        bound = signature.bind(**options)
        bound.apply_defaults()
        return seq2seq_description(*splits(**bound.arguments))

    register_metadata(loader.__name__)(describe)


describe_with(seq2seq_addition, addition_splits)
describe_with(seq2seq_reversal, reversal_splits)
describe_with(seq2seq_dates, dates_splits)
