"""Time-series classification: six sets of the UEA/UCR archive, with their official splits.

The archive's ``.ts`` files ship inside the ``aeon`` 1.6.0 wheel (BSD-3) under
``aeon/datasets/data/<Name>/``. ``keras-curriculum data prepare ucr`` copies them into the cache
(from the installed aeon when it is that version, else from the wheel downloaded with pip); aeon
is never imported. The files are plain text::

    # comments
    @problemName BasicMotions
    @dimensions 6
    @equalLength true
    @seriesLength 100
    @classLabel true Standing Running Walking Badminton
    @data
    0.07,0.08,…:0.39,0.41,…:…:Standing      ← channels separated by ':', the label last

Every series becomes an array of shape (T, d): time first, channels last, the
``(batch, time, features)`` layout of Keras' recurrent and 1-D convolution layers.

| problem | channels | length | classes | train / test |
| --- | --- | --- | --- | --- |
| BasicMotions (smartwatch accelerometer + gyroscope) | 6 | 100 | 4 | 40 / 40 |
| JapaneseVowels (speakers saying "ae") | 12 | 7–29 | 9 | 270 / 370 |
| GunPoint | 1 | 150 | 2 | 50 / 150 |
| ItalyPowerDemand | 1 | 24 | 2 | 67 / 1,029 |
| ArrowHead | 1 | 251 | 3 | 36 / 175 |
| OSULeaf | 1 | 427 | 6 | 200 / 242 |

Each channel is standardised with the mean and standard deviation of the *training* series
only. Series of unequal length (JapaneseVowels) are padded at the end with ``PADDING_VALUE``
after scaling, and the source tells the model to mask that value (``mask_value`` in the
metadata), so padded steps never reach the recurrent state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from keras_curriculum.datasets.cache import (
    cached_path,
    not_prepared,
    read_package_files,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    register_preparer,
)
from keras_curriculum.errors import CurriculumError
from keras_curriculum.registry import register_dataset

REQUIREMENT = "aeon==1.6.0"
PROBLEMS = (
    "BasicMotions",
    "JapaneseVowels",
    "GunPoint",
    "ItalyPowerDemand",
    "ArrowHead",
    "OSULeaf",
)
Problem = Literal[
    "BasicMotions", "JapaneseVowels", "GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf"
]
PADDING_VALUE = 0.0  # after standardising: a real step with every channel exactly 0 is unheard of


def member(problem: str, split: str) -> str:
    return f"aeon/datasets/data/{problem}/{problem}_{split}.ts"


def path(problem: str, split: str) -> Path:
    return cached_path("ucr", f"{problem}_{split}.ts")


@register_preparer("ucr")
def prepare_ucr() -> Path:
    """Copies the six problems' ``.ts`` files out of the aeon wheel into the cache."""
    wanted = {(p, s): member(p, s) for p in PROBLEMS for s in ("TRAIN", "TEST")}
    missing = {key: name for key, name in wanted.items() if not path(*key).exists()}
    if missing:
        files = read_package_files(REQUIREMENT, list(missing.values()))
        for (problem, split), name in missing.items():
            # A corrupt file fails here, not at training time.
            parse_ts(files[name].decode("utf-8"), source=name)
            write_atomically(path(problem, split), files[name])
    return path(PROBLEMS[0], "TRAIN").parent


# ---------------------------------------------------------------------------------------------
# The .ts format


@dataclass
class TimeSeriesFile:
    """One parsed ``.ts`` file: ``series[i]`` has shape (T_i, d); ``labels[i]`` indexes
    ``class_names`` (the order of the ``@classLabel`` line)."""

    problem: str
    series: list[np.ndarray]
    labels: np.ndarray
    class_names: list[str]
    dimensions: int


def read_ts(file: str | Path) -> TimeSeriesFile:
    """Parses a ``.ts`` file; any defect is a one-line error naming the file and line."""
    file = Path(file)
    if not file.exists():
        raise CurriculumError(f"{file}: no such file")
    return parse_ts(file.read_text(encoding="utf-8"), source=str(file))


def parse_ts(text: str, *, source: str) -> TimeSeriesFile:
    """Parses the text of a ``.ts`` file (``source`` names it in error messages)."""
    header: dict[str, str] = {}
    class_names: list[str] | None = None
    series: list[np.ndarray] = []
    labels: list[int] = []
    in_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def fail(message: str, number: int = number) -> CurriculumError:
            return CurriculumError(f"{source}:{number}: {message}")

        if not in_data:
            if not line.startswith("@"):
                raise fail(f"expected a '@' header line before @data, got {line[:40]!r}")
            key, _, value = line[1:].partition(" ")
            key, value = key.lower(), value.strip()
            if key == "data":
                in_data = True
                if class_names is None:
                    raise fail("@data before a '@classLabel true …' line")
                dimensions = int(header.get("dimensions", "1"))
            elif key == "classlabel":
                flag, *names = value.split()
                if flag.lower() != "true" or not names:
                    raise fail("expected '@classLabel true <label> …' (a classification problem)")
                class_names = names
            else:
                header[key] = value
            continue
        *channels, label = line.split(":")
        if len(channels) != dimensions:
            raise fail(f"expected {dimensions} dimensions (@dimensions), got {len(channels)}")
        if label not in class_names:
            raise fail(f"label {label!r} is not in @classLabel ({' '.join(class_names)})")
        values = [channel.split(",") for channel in channels]
        lengths = {len(v) for v in values}
        if len(lengths) != 1:
            raise fail(f"channels of different lengths {sorted(lengths)}")
        if any(token.strip() in ("?", "NaN", "nan", "") for v in values for token in v):
            raise fail("missing value ('?' or empty): this loader needs complete series")
        try:
            array = np.array(values, dtype=np.float32).T  # (T, d)
        except ValueError as error:
            raise fail(f"not a number: {error}") from None
        series.append(array)
        labels.append(class_names.index(label))
    if not in_data:
        raise CurriculumError(f"{source}: no @data section")
    return TimeSeriesFile(
        problem=header.get("problemname", Path(source).stem),
        series=series,
        labels=np.array(labels, dtype=np.int64),
        class_names=class_names,
        dimensions=dimensions,
    )


def read_problem(problem: str) -> tuple[TimeSeriesFile, TimeSeriesFile]:
    """The official training and test files of ``problem`` from the cache."""
    files = []
    for split in ("TRAIN", "TEST"):
        file = path(problem, split)
        if not file.exists():
            raise not_prepared("ucr", file)
        files.append(read_ts(file))
    return files[0], files[1]


# ---------------------------------------------------------------------------------------------
# Scaling and padding


def channel_statistics(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's mean and standard deviation over every step of ``series`` (training)."""
    steps = np.concatenate(series, axis=0)
    std = steps.std(axis=0)
    return steps.mean(axis=0), np.where(std == 0, 1.0, std)


def pad(series: list[np.ndarray], length: int, value: float = PADDING_VALUE) -> np.ndarray:
    """Stacks (T_i, d) series into (n, length, d), padding the end of shorter ones."""
    batch = np.full((len(series), length, series[0].shape[1]), value, dtype=np.float32)
    for row, array in enumerate(series):
        batch[row, : len(array)] = array
    return batch


@register_dataset("ucr")
def ucr(*, problem: Problem = "BasicMotions", scale: bool = True) -> Source:
    """A UEA/UCR time-series classification problem (official train/test split), (T, d) series.

    Args:
        problem: one of BasicMotions, JapaneseVowels, GunPoint, ItalyPowerDemand, ArrowHead,
            OSULeaf.
        scale: standardise each channel with the training series' mean and standard deviation.
    """
    train, test = read_problem(problem)
    if scale:
        mean, std = channel_statistics(train.series)
        train.series = [(s - mean) / std for s in train.series]
        test.series = [(s - mean) / std for s in test.series]
    description = problem_description(train, test)
    length = description.input_shape[0]
    return description.source(
        train=(pad(train.series, length), train.labels),
        test=(pad(test.series, length), test.labels),
    )


def problem_description(train: TimeSeriesFile, test: TimeSeriesFile) -> Description:
    """(longest T, d) series of the problem's classes; a mask value when lengths vary."""
    lengths = {len(s) for s in train.series + test.series}
    return Description(
        input_shape=(max(lengths), train.dimensions),
        num_classes=len(train.class_names),
        class_names=train.class_names,
        extras={"mask_value": PADDING_VALUE} if len(lengths) > 1 else {},
    )


@register_metadata("ucr")
def ucr_metadata(*, problem: Problem = "BasicMotions") -> Description:
    # Parsing the problem's two text files (kilobytes to a few megabytes) gives its shape.
    return problem_description(*read_problem(problem))
