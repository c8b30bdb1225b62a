"""Sequences and time series: our recurrent and convolutional models against the field's baselines.

    nice -n 10 python benchmarks/sequence_results.py [--parts classification adding forecasting]
        [--problems BasicMotions …] [--models lstm gru fcn] [--seeds N] [--steps N]
        [--peers 1nn_dtw minirocket] [--lengths 50 100 200] [--output-dir DIR]

Three parts, each printing its table and writing ``sequence_<part>.json`` to the output directory
(after every row, so an interrupted run keeps what it measured):

**classification** — the six UEA/UCR problems of ``datasets/ucr.py`` on their official splits.
Ours: LSTM(64) and GRU(64) (Adam from 0.003), and the fully convolutional network of Wang et al.
(2017) (Conv1D 128/8, 256/5, 128/3 → BN → ReLU → global average pooling; Adam from 0.001,
both rates decayed to 0 by a cosine over the run), each
trained on the whole training split for ``--steps`` gradient steps, rounded up to whole epochs
(batch 16, so sets of 36 and 270 series get the same number of updates; channels standardised
with training statistics, JapaneseVowels' padding masked for the recurrent models) and scored on
the test split after the last epoch: nothing is chosen on the test set. Rows run seed by seed
over every problem, so an interrupted run has whole seeds. Peers on the same splits
(raw series): aeon's 1-NN with full-window DTW, and MiniRocket (10,000 kernels, ridge). Seeds
change our initialisation and batch order and MiniRocket's kernels; 1-NN DTW is deterministic.

**adding** — the adding problem (``datasets/adding_problem.py``, synthetic) at each T of
``--lengths``: SimpleRNN, LSTM and GRU (32 units, Adam 0.01, clip-norm 1, batch 64, 10,000
training series, at most ``--adding-epochs`` epochs, stopped once the validation MSE is below
0.001) against the 0.167 MSE of always answering 1.

**forecasting** — co2 (weekly, m = 52), sunspots (yearly, m = 11) and airline (monthly,
m = 12), the loaders' last 10 / 10 / 15 % held out. Every method forecasts each test value one
step ahead from the true values before it. Ours: the LSTM forecaster (32 units; early stopping
on the validation part before the test part), forecasting the change from the last value, or
for airline from the same month a year before (``relative_to_lag: 12``: 86 training windows
are too few to learn the season, which SARIMA's seasonal difference also takes as given). Peers
(statsmodels, fitted on the training part, then run over the test part with those parameters
fixed): seasonal naive ŷ_t = y_{t−m}; Holt-Winters (additive trend and season, state-space
form); SARIMA. Airline is modelled in logs by all three models that fit parameters. Score:
MASE = mean |y − ŷ| on the test part ÷ mean |y_t − y_{t−m}| on the training part.

CPU time is the process's CPU seconds per row (all threads), wall time beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np

from keras_curriculum import datasets, models
from keras_curriculum.datasets import forecasting, ucr
from keras_curriculum.datasets.adding_problem import BASELINE_MSE
from keras_curriculum.reports.forecasting import mase

REPO = Path(__file__).resolve().parents[1]
PROBLEMS = list(ucr.PROBLEMS)
OUR_MODELS = {  # name: (sequence_classifier arguments, Adam learning rate)
    "lstm": ({"cell": "lstm", "units": [64]}, 0.003),
    "gru": ({"cell": "gru", "units": [64]}, 0.003),
    "fcn": ({"units": [], "conv_filters": [128, 256, 128], "conv_kernel_sizes": [8, 5, 3]}, 0.001),
}
SERIES = ["co2", "sunspots", "airline"]
FORECAST_LAGS = {"co2": 1, "sunspots": 1, "airline": 12}  # the naive forecast ours corrects
PEERS = ["1nn_dtw", "minirocket"]
# SARIMA orders (p, d, q)(P, D, Q, m): the airline model for the monthly and weekly seasons;
# an AR(2) with a seasonal AR term for the 11-year sunspot cycle, which is not a fixed period.
SARIMA_ORDERS = {
    "co2": ((1, 1, 1), (0, 1, 1, 52)),
    "sunspots": ((2, 0, 1), (1, 0, 0, 11)),
    "airline": ((0, 1, 1), (0, 1, 1, 12)),
}


class Clock:
    """CPU seconds (this process, all threads) and wall seconds since it was made."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def read(self) -> tuple[float, float]:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def save(results: list[dict], output_dir: Path, part: str) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"sequence_{part}.json"
    temporary = path.with_suffix(".json.part")
    temporary.write_text(json.dumps(results, indent=1))
    os.replace(temporary, path)


def fit(model, data, *, learning_rate: float, epochs: int, loss: str, callbacks=(), **compile):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, **compile), loss=loss)
    return model.fit(
        data.train, validation_data=data.validation, epochs=epochs, callbacks=list(callbacks),
        verbose=0,
    )  # fmt: skip


class Solved(keras.callbacks.Callback):
    """Stops training once the validation MSE is below 0.001: the adding problem is solved."""

    def on_epoch_end(self, epoch, logs=None):
        if logs and logs.get("val_loss", 1.0) < 0.001:
            self.model.stop_training = True


# ---------------------------------------------------------------------------------------------
# Classification


def ours_classification(problem: str, name: str, seed: int, steps: int) -> dict:
    keras.utils.set_random_seed(seed)
    data = datasets.load(
        "ucr", problem=problem, batch_size=16, validation_split=0, test_split=0, seed=seed
    )
    arguments, rate = OUR_MODELS[name]
    batches = int(data.train.cardinality())
    epochs = math.ceil(steps / batches)
    clock = Clock()
    model = models.build("sequence_classifier", metadata=data.info.metadata(), **arguments)
    # The rate decays to 0 over the run (cosine), so every run ends converged, whatever its length.
    schedule = keras.optimizers.schedules.CosineDecay(rate, decay_steps=epochs * batches)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(data.train, epochs=epochs, verbose=0).history
    accuracy = float(model.evaluate(data.test, verbose=0, return_dict=True)["accuracy"])
    cpu, wall = clock.read()
    return {
        "problem": problem, "model": name, "seed": seed, "accuracy": accuracy, "epochs": epochs,
        "final_loss": history["loss"][-1], "cpu_s": cpu, "wall_s": wall,
    }  # fmt: skip


def peer_classification(problem: str, name: str, seed: int) -> dict:
    train, test = ucr.read_problem(problem)
    equal = len({len(s) for s in train.series + test.series}) == 1
    clock = Clock()
    if name == "1nn_dtw":
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

        classifier = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw")
        # aeon takes (channels, T); unequal lengths as a list of such arrays.
        x_train = [s.T for s in train.series]
        x_test = [s.T for s in test.series]
        if equal:
            x_train, x_test = np.stack(x_train), np.stack(x_test)
    else:
        from aeon.classification.convolution_based import MiniRocketClassifier

        classifier = MiniRocketClassifier(random_state=seed)
        # MiniRocket needs equal lengths: JapaneseVowels padded at the end with zeros.
        length = max(len(s) for s in train.series + test.series)
        x_train = ucr.pad(train.series, length).transpose(0, 2, 1)
        x_test = ucr.pad(test.series, length).transpose(0, 2, 1)
    classifier.fit(x_train, train.labels)
    accuracy = float((classifier.predict(x_test) == test.labels).mean())
    cpu, wall = clock.read()
    return {
        "problem": problem, "model": name, "seed": seed, "accuracy": accuracy,
        "cpu_s": cpu, "wall_s": wall,
    }  # fmt: skip


def classification(args: argparse.Namespace) -> list[dict]:
    results: list[dict] = []
    for seed in range(args.seeds):
        for problem in args.problems:
            for name in args.models:
                results.append(ours_classification(problem, name, seed, args.steps))
                print(json.dumps(results[-1]), flush=True)
                save(results, args.output_dir, "classification")
            for name in args.peers:
                if name == "1nn_dtw" and seed > 0:
                    continue  # deterministic
                results.append(peer_classification(problem, name, seed))
                print(json.dumps(results[-1]), flush=True)
                save(results, args.output_dir, "classification")
    print_classification(results)
    return results


def print_classification(results: list[dict]) -> None:
    names = list(dict.fromkeys(r["model"] for r in results))
    print("\n| problem | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for problem in dict.fromkeys(r["problem"] for r in results):
        cells = []
        for name in names:
            rows = [r for r in results if r["problem"] == problem and r["model"] == name]
            if not rows:
                cells.append("—")
                continue
            accuracy = 100 * np.array([r["accuracy"] for r in rows])
            cpu = np.mean([r["cpu_s"] for r in rows])
            spread = f" ± {accuracy.std():.1f}" if len(rows) > 1 else ""
            cells.append(f"{accuracy.mean():.1f}{spread} % ({len(rows)}×, {cpu:.0f} s)")
        print(f"| {problem} | " + " | ".join(cells) + " |")


# ---------------------------------------------------------------------------------------------
# The adding problem


def adding(args: argparse.Namespace) -> list[dict]:
    results: list[dict] = []
    for length in args.lengths:
        for cell in ("simple", "lstm", "gru"):
            for seed in range(args.adding_seeds):
                keras.utils.set_random_seed(seed)
                data = datasets.load(
                    "adding_problem", length=length, batch_size=64, test_split=0, seed=seed
                )
                clock = Clock()
                model = models.build(
                    "sequence_forecaster", input_shape=(length, 2), cell=cell, units=[32],
                    relative_to_lag=0,
                )  # fmt: skip
                history = fit(
                    model, data, learning_rate=0.01, epochs=args.adding_epochs, loss="mse",
                    clipnorm=1.0, callbacks=[Solved()],
                )  # fmt: skip
                mse = float(model.evaluate(data.test, verbose=0))
                cpu, wall = clock.read()
                results.append({
                    "length": length, "cell": cell, "seed": seed, "test_mse": mse,
                    "epochs": len(history.history["loss"]), "cpu_s": cpu, "wall_s": wall,
                })  # fmt: skip
                print(json.dumps(results[-1]), flush=True)
                save(results, args.output_dir, "adding")
    print(f"\n| T | cell | test MSE (baseline {BASELINE_MSE:.3f}) | epochs | CPU s |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['length']} | {r['cell']} | {r['test_mse']:.4f} | {r['epochs']} |"
            f" {r['cpu_s']:.0f} |"
        )
    return results


# ---------------------------------------------------------------------------------------------
# Forecasting


def one_step_statsmodels(name: str, series: np.ndarray, start: int, method: str) -> np.ndarray:
    """One-step-ahead forecasts of ``series[start:]`` by a model fitted on ``series[:start]``
    whose parameters are then kept fixed over the test part."""
    log = name == "airline"
    values = np.log(series) if log else series
    period = forecasting.SERIES[name][3]
    if method == "holt_winters":
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        fitted = ExponentialSmoothing(
            values[:start], trend="add", seasonal="add", seasonal_periods=period
        ).fit()
        # The same recursions over the whole series, parameters and initial states fixed:
        # its fitted values are the one-step-ahead forecasts.
        rerun = ExponentialSmoothing(
            values, trend="add", seasonal="add", seasonal_periods=period,
            initialization_method="known", initial_level=fitted.params["initial_level"],
            initial_trend=fitted.params["initial_trend"],
            initial_seasonal=fitted.params["initial_seasons"],
        ).fit(
            smoothing_level=fitted.params["smoothing_level"],
            smoothing_trend=fitted.params["smoothing_trend"],
            smoothing_seasonal=fitted.params["smoothing_seasonal"], optimized=False,
        )  # fmt: skip
        predicted = np.asarray(rerun.fittedvalues)[start:]
    else:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        order, seasonal = SARIMA_ORDERS[name]
        fitted = SARIMAX(values[:start], order=order, seasonal_order=seasonal).fit(disp=False)
        extended = fitted.append(values[start:], refit=False)
        predicted = np.asarray(extended.predict(start=start, end=len(series) - 1))
    return np.exp(predicted) if log else predicted


def ours_forecast(name: str, seed: int, epochs: int) -> tuple[np.ndarray, int]:
    keras.utils.set_random_seed(seed)
    data = datasets.load(name, batch_size=32, seed=seed)
    extras = data.info.extras
    model = models.build(
        "sequence_forecaster", metadata=data.info.metadata(), units=[32],
        relative_to_lag=FORECAST_LAGS[name],
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=20, restore_best_weights=True)
    history = model.fit(
        data.train, validation_data=data.validation, epochs=epochs, callbacks=[stop], verbose=0
    )
    predicted = model.predict(data.test, verbose=0)[:, 0]
    return forecasting.unscale(predicted, extras["scaling"]), len(history.history["loss"])


def forecasting_part(args: argparse.Namespace) -> list[dict]:
    results: list[dict] = []
    for name in args.series:
        source = datasets.load_source(name)
        series, start = source.extras["series"], source.extras["test_start"]
        period = source.extras["seasonal_period"]
        truth, training = series[start:], series[:start]
        # SARIMA with a 52-week season runs for many minutes on a small CPU: opt in.
        sarima = ["sarima"] if name != "co2" or args.sarima_co2 else []
        methods = ["seasonal_naive", "holt_winters", *sarima] + [
            f"lstm_seed{seed}" for seed in range(args.seeds)
        ]
        for method in methods:
            clock = Clock()
            epochs = None
            if method == "seasonal_naive":
                forecast = series[start - period : len(series) - period]
            elif method.startswith("lstm"):
                forecast, epochs = ours_forecast(
                    name, int(method[len("lstm_seed") :]), args.forecast_epochs
                )
            else:
                forecast = one_step_statsmodels(name, series, start, method)
            cpu, wall = clock.read()
            results.append({
                "series": name, "method": method, "mase": mase(truth, forecast, training, period),
                "mae": float(np.mean(np.abs(truth - forecast))), "test_points": len(truth),
                "epochs": epochs, "cpu_s": cpu, "wall_s": wall,
            })  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
            save(results, args.output_dir, "forecasting")
    print("\n| series | method | MASE | MAE | CPU s |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['series']} | {r['method']} | {r['mase']:.3f} | {r['mae']:.3f} | {r['cpu_s']:.1f} |"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["classification", "adding", "forecasting"])
    parser.add_argument("--problems", nargs="+", default=PROBLEMS, choices=PROBLEMS)
    parser.add_argument("--models", nargs="+", default=list(OUR_MODELS), choices=list(OUR_MODELS))
    parser.add_argument("--seeds", type=int, default=5, help="seeds per classification/LSTM row")
    parser.add_argument(
        "--steps", type=int, default=1500, help="classification gradient steps (whole epochs)"
    )
    parser.add_argument("--peers", nargs="*", default=PEERS, choices=PEERS)
    parser.add_argument("--lengths", nargs="+", type=int, default=[50, 100, 200])
    parser.add_argument("--adding-epochs", type=int, default=30)
    parser.add_argument("--adding-seeds", type=int, default=1)
    parser.add_argument("--series", nargs="+", default=SERIES, choices=SERIES)
    parser.add_argument("--sarima-co2", action="store_true", help="also SARIMA on co2 (slow)")
    parser.add_argument("--forecast-epochs", type=int, default=200)
    parser.add_argument("--output-dir", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    if "forecasting" in args.parts:
        forecasting_part(args)
    if "adding" in args.parts:
        adding(args)
    if "classification" in args.parts:
        classification(args)


if __name__ == "__main__":
    main()
