"""Forecasting report: the test forecasts in the series' own units, their mean absolute scaled
error beside the seasonal naive forecast's, and a plot against the held-out truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from keras_curriculum.datasets.forecasting import unscale
from keras_curriculum.reports.plots import save, subplots


def mase(truth: np.ndarray, forecast: np.ndarray, training: np.ndarray, period: int) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006): the forecast's mean absolute error
    divided by that of the seasonal naive forecast ŷ_t = y_{t−m} over the training part."""
    scale = np.mean(np.abs(training[period:] - training[:-period]))
    return float(np.mean(np.abs(np.asarray(truth) - np.asarray(forecast))) / scale)


def forecasting_report(model, data, run_dir: Path) -> dict[str, Any]:
    """One-step-ahead forecasts of the test part (the first of each window's ``horizon``)."""
    extras = data.info.extras
    series, start = np.asarray(extras["series"]), int(extras["test_start"])
    period = int(extras["seasonal_period"])
    outputs = model.predict(data.test, verbose=0)
    forecast = unscale(np.asarray(outputs)[:, 0], extras["scaling"])
    end = start + len(forecast)
    truth, training = series[start:end], series[:start]
    naive = series[start - period : end - period]
    figure, axis = subplots(figsize=(8, 3.2))
    shown = max(0, start - 3 * len(forecast))
    axis.plot(range(shown, end), series[shown:end], color="0.3", lw=1, label="series")
    axis.plot(range(start, end), forecast, color="C1", lw=1.5, label="model, one step ahead")
    axis.plot(
        range(start, end), naive, color="C2", lw=1, ls="--", label=f"seasonal naive (m={period})"
    )
    axis.axvline(start, color="0.6", ls=":")
    axis.set_title(f"{extras.get('series_name', data.info.name)}: test forecasts")
    axis.set_xlabel("step")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    save(figure, Path(run_dir) / "plots" / "forecast.png")
    return {
        "forecasting": {
            "mase": mase(truth, forecast, training, period),
            "seasonal_naive_mase": mase(truth, naive, training, period),
            "mae": float(np.mean(np.abs(truth - forecast))),
            "test_points": len(truth),
        },
        "forecast_plot": "plots/forecast.png",
    }
