"""Forecasting: three real series cut into (window of past values → next values) examples.

| series | source | length | season m |
| --- | --- | --- | --- |
| ``co2``: weekly atmospheric CO₂ at Mauna Loa (ppm), 1958–2001 | statsmodels 0.15.0 ``datasets/co2/co2.csv`` | 2,284 | 52 |
| ``sunspots``: yearly mean sunspot number, 1700–2008 | statsmodels 0.15.0 ``datasets/sunspots/sunspots.csv`` | 309 | 11 |
| ``airline``: monthly airline passengers (thousands), 1949–1960 | aeon 1.6.0 ``datasets/data/Airline/Airline.csv`` | 144 | 12 |

``keras-curriculum data prepare forecasting`` copies the three CSV files into the cache (from
the installed packages' files when those versions are installed, else from their wheels
downloaded with pip); neither package is imported. The 59 weeks co2 lacks are filled by linear
interpolation.

The series is split in time, never shuffled before splitting::

    ├──────── fit ────────┼─ validation ─┼──── test ────┤
    0                   n_fit          n_train          N

Scaling (optionally after a log) uses the mean and standard deviation of the *fit* part only.
An example is ``window`` consecutive values and the ``horizon`` values that follow, made by
``keras.utils.timeseries_dataset_from_array``. Training windows lie wholly inside the fit part;
a validation or test window's targets lie wholly inside its part, while its inputs are the
values just before them, which are known when the forecast is made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import (
    cached_path,
    not_prepared,
    read_package_files,
    write_atomically,
)
from keras_curriculum.datasets.source import Source, register_preparer
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

# series name → (requirement, file in the wheel, value column, seasonal period)
SERIES = {
    "co2": ("statsmodels==0.15.0", "statsmodels/datasets/co2/co2.csv", "co2", 52),
    "sunspots": (
        "statsmodels==0.15.0",
        "statsmodels/datasets/sunspots/sunspots.csv",
        "SUNACTIVITY",
        11,
    ),
    "airline": ("aeon==1.6.0", "aeon/datasets/data/Airline/Airline.csv", "Passengers", 12),
}


def path(series: str) -> Path:
    return cached_path("forecasting", f"{series}.csv")


@register_preparer("forecasting")
def prepare_forecasting() -> Path:
    """Copies co2.csv, sunspots.csv (statsmodels) and Airline.csv (aeon) into the cache."""
    for name, (requirement, member, _, _) in SERIES.items():
        if path(name).exists():
            continue
        data = read_package_files(requirement, [member])[member]
        parse_values(data.decode("utf-8"), SERIES[name][2], source=member)  # fails early if corrupt
        write_atomically(path(name), data)
    return path("co2").parent


def parse_values(text: str, column: str, *, source: str) -> np.ndarray:
    """The ``column`` of a CSV as float64, empty cells filled by linear interpolation."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or column not in rows[0]:
        raise ConfigError(None, f"{source}: no column {column!r}")
    values = np.array([float(r[column]) if r[column].strip() else np.nan for r in rows])
    missing = np.isnan(values)
    if missing.all():
        raise ConfigError(None, f"{source}: column {column!r} holds no value")
    index = np.arange(len(values))
    values[missing] = np.interp(index[missing], index[~missing], values[~missing])
    return values


def read_series(name: str) -> np.ndarray:
    """The raw series ``name`` (co2, sunspots, airline) from the cache."""
    file = path(name)
    if not file.exists():
        raise not_prepared("forecasting", file)
    return parse_values(file.read_text(encoding="utf-8"), SERIES[name][2], source=str(file))


# ---------------------------------------------------------------------------------------------
# Splitting, scaling, windowing


@dataclass(frozen=True)
class Boundaries:
    """Where the fit, validation and test parts start and end (indices into the series)."""

    fit_end: int
    train_end: int
    length: int


def boundaries(
    length: int, *, window: int, horizon: int, test_fraction: float, validation_fraction: float
) -> Boundaries:
    """The split points; errors name the data option to change."""
    for key, value in (
        ("test_fraction", test_fraction),
        ("validation_fraction", validation_fraction),
    ):
        if not 0 <= value < 1:
            raise ConfigError(f"data.{key}", f"expected a fraction in [0, 1), got {value!r}")
    if window < 1 or horizon < 1:
        raise ConfigError("data.window", f"window and horizon must be ≥ 1, got {window}, {horizon}")
    train_end = length - round(test_fraction * length)
    fit_end = train_end - round(validation_fraction * train_end)
    for part, size in (("test", length - train_end), ("validation", train_end - fit_end)):
        if 0 < size < horizon:
            raise ConfigError(
                f"data.{part}_fraction",
                f"the {part} part ({size} values) is shorter than the horizon ({horizon})",
            )
    if fit_end - window - horizon + 1 < 1:
        raise ConfigError(
            "data.window",
            f"no training window: {fit_end} fit values, window {window} + horizon {horizon}",
        )
    return Boundaries(fit_end, train_end, length)


def windows(
    values: np.ndarray, *, window: int, horizon: int, first_target: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (inputs, targets) pair whose ``horizon`` targets lie in ``values[first_target:end]``
    and whose inputs are the ``window`` values just before them: shapes (n, window, 1), (n, h).
    """
    import keras

    segment = np.asarray(values[first_target - window : end], dtype=np.float32)
    # targets[i] = the h values after the window that starts at i
    targets = np.lib.stride_tricks.sliding_window_view(segment[window:], horizon)
    count = len(targets)
    dataset = keras.utils.timeseries_dataset_from_array(
        segment[: window + count - 1, None],
        targets,
        sequence_length=window,
        batch_size=max(count, 1),
        shuffle=False,
    )
    inputs, outputs = next(iter(dataset))
    return inputs.numpy(), outputs.numpy()


def forecasting_source(
    series: np.ndarray,
    *,
    name: str,
    seasonal_period: int,
    window: int,
    horizon: int,
    test_fraction: float,
    validation_fraction: float,
    log: bool = False,
) -> Source:
    """Splits, scales (fit-part statistics only) and windows ``series`` into a Source."""
    bounds = boundaries(
        len(series),
        window=window,
        horizon=horizon,
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
    )
    transformed = np.log(series) if log else np.asarray(series, dtype=np.float64)
    mean = float(transformed[: bounds.fit_end].mean())
    std = float(transformed[: bounds.fit_end].std()) or 1.0
    scaled = (transformed - mean) / std
    parts = {
        "train": (window, bounds.fit_end),
        "validation": (bounds.fit_end, bounds.train_end),
        "test": (bounds.train_end, bounds.length),
    }
    splits = {
        part: windows(scaled, window=window, horizon=horizon, first_target=start, end=end)
        if end > start
        else None
        for part, (start, end) in parts.items()
    }
    return Source(
        train=splits["train"],
        validation=splits["validation"],
        test=splits["test"],
        input_shape=(window, 1),
        task="forecasting",
        extras={
            "horizon": horizon,
            "series_name": name,
            "series": np.asarray(series, dtype=np.float64),
            "seasonal_period": seasonal_period,
            "test_start": bounds.train_end,
            "fit_end": bounds.fit_end,
            "scaling": {"mean": mean, "std": std, "log": log},
        },
    )


def unscale(values: np.ndarray, scaling: dict) -> np.ndarray:
    """Scaled model outputs back in the series' own units (undoes the standardising and log)."""
    values = np.asarray(values, dtype=np.float64) * scaling["std"] + scaling["mean"]
    return np.exp(values) if scaling["log"] else values


def _register(name: str, *, window: int, test_fraction: float, log: bool, description: str):
    def loader(
        *,
        window: int = window,
        horizon: int = 1,
        test_fraction: float = test_fraction,
        validation_fraction: float = 0.1,
        log: bool = log,
    ) -> Source:
        return forecasting_source(
            read_series(name),
            name=name,
            seasonal_period=SERIES[name][3],
            window=window,
            horizon=horizon,
            test_fraction=test_fraction,
            validation_fraction=validation_fraction,
            log=log,
        )

    loader.__doc__ = f"""{description}

    Args:
        window: past values an example sees.
        horizon: values it forecasts (the next one, or the next h).
        test_fraction: the last share of the series held out for testing.
        validation_fraction: the share of the rest, just before the test part, for validation.
        log: forecast the log of the series (a multiplicative season becomes additive).
    """
    loader.__name__ = name
    register_dataset(name)(loader)


_register(
    "co2",
    window=104,
    test_fraction=0.1,
    log=False,
    description="Weekly Mauna Loa CO₂ (statsmodels), 2,284 weeks: window → next value(s).",
)
_register(
    "sunspots",
    window=22,
    test_fraction=0.1,
    log=False,
    description="Yearly sunspot numbers 1700–2008 (statsmodels): window → next value(s).",
)
_register(
    "airline",
    window=24,
    test_fraction=0.15,
    log=True,
    description="Monthly airline passengers 1949–1960 (aeon's copy): window → next value(s).",
)
