"""Numeric sequences: the notes' recurrent models, the UEA/UCR and forecasting loaders, masking,
the forecaster's leak-free scaling and windows, and short end-to-end runs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_yaml_config, run_cli

from keras_curriculum import datasets, models
from keras_curriculum.datasets import forecasting, uci_har, ucr
from keras_curriculum.datasets.adding_problem import BASELINE_MSE, adding_examples
from keras_curriculum.errors import CurriculumError

# ---------------------------------------------------------------------------------------------
# The notes' models


@pytest.mark.parametrize(
    "config, parameters",
    [
        ("notes/001_24_3_2_simple_rnn.yaml", 7_874),
        ("notes/001_24_4_stacked_simple_rnn.yaml", 16_130),
        ("notes/001_b9_simple_rnn.yaml", 9_285),
        ("notes/001_b9_har_lstm.yaml", 22_214),
        ("notes/000_simple_rnn_layer.yaml", 4_800),
    ],
)
def test_notes_recurrent_models_have_exact_parameter_counts(config, parameters):
    config = load_yaml_config(config)
    model = models.build(config.model.name, **config.model.arguments)
    assert model.count_params() == parameters


def test_notes_config_summary_command_works_offline():
    result = run_cli(
        "keras-curriculum", "summary", "-c", "configs/notes/001_b9_har_lstm.yaml", timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "Total params: 22,214" in result.stdout


def test_two_classes_get_a_two_unit_softmax_head():
    model = models.build("sequence_classifier", input_shape=(15, 56), num_classes=2, cell="gru")
    assert model.output.shape == (None, 2)
    outputs = model.predict(np.random.default_rng(0).normal(size=(3, 15, 56)), verbose=0)
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# The UEA/UCR loaders

PUBLISHED = {  # problem: (train, test, length, channels, classes), from the archive's pages
    "BasicMotions": (40, 40, 100, 6, 4),
    "JapaneseVowels": (270, 370, 29, 12, 9),  # 7–29 steps, padded to the longest
    "GunPoint": (50, 150, 150, 1, 2),
    "ItalyPowerDemand": (67, 1029, 24, 1, 2),
    "ArrowHead": (36, 175, 251, 1, 3),
    "OSULeaf": (200, 242, 427, 1, 6),
}


@pytest.mark.parametrize("problem", list(PUBLISHED))
def test_ucr_loader_matches_the_archive(problem):
    n_train, n_test, length, channels, classes = PUBLISHED[problem]
    source = datasets.load_source("ucr", problem=problem)
    assert source.train[0].shape == (n_train, length, channels)
    assert source.test[0].shape == (n_test, length, channels)
    assert source.num_classes == classes == len(source.class_names)
    assert set(np.unique(source.train[1])) == set(range(classes))
    train, test = ucr.read_problem(problem)
    lengths = [len(s) for s in train.series + test.series]
    if problem == "JapaneseVowels":
        assert (min(lengths), max(lengths)) == (7, 29)
        assert source.extras == {"mask_value": ucr.PADDING_VALUE}
    else:
        assert set(lengths) == {length} and source.extras == {}
    # Scaled with training statistics only: the training steps have mean 0, std 1 per channel.
    steps = np.concatenate([x[:n] for x, n in zip(source.train[0], lengths, strict=False)])
    np.testing.assert_allclose(steps.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(steps.std(axis=0), 1.0, atol=1e-3)


def test_ucr_loader_agrees_with_aeon():
    aeon_loader = pytest.importorskip("aeon.datasets").load_classification
    x, y = aeon_loader("BasicMotions", split="test")
    ours = ucr.read_ts(ucr.path("BasicMotions", "TEST"))
    np.testing.assert_allclose(np.stack(ours.series).transpose(0, 2, 1), x, rtol=1e-6)
    assert [ours.class_names[k].lower() for k in ours.labels] == [str(v).lower() for v in y]


GOOD_TS = """# a comment
@problemName Toy
@dimensions 2
@equalLength true
@classLabel true up down
@data
1,2,3:4,5,6:up
6,5,4:3,2,1:down
"""


@pytest.mark.parametrize(
    "bad_line, line_number, message",
    [
        ("1,?,3:4,5,6:up", 8, "missing value"),
        ("1,2,3:up", 8, "expected 2 dimensions"),
        ("1,2,3:4,5,6:sideways", 8, "label 'sideways' is not in @classLabel"),
    ],
)
def test_malformed_ts_file_is_a_one_line_error_naming_file_and_line(
    tmp_path, bad_line, line_number, message
):
    path = tmp_path / "Toy_TRAIN.ts"
    path.write_text(GOOD_TS + bad_line + "\n")
    with pytest.raises(CurriculumError) as error:
        ucr.read_ts(path)
    text = str(error.value)
    assert text.startswith(f"{path}:{line_number + 1}: ") and message in text
    assert "\n" not in text
    good = tmp_path / "Good.ts"
    good.write_text(GOOD_TS)
    parsed = ucr.read_ts(good)
    assert parsed.series[0].shape == (3, 2) and list(parsed.labels) == [0, 1]


# ---------------------------------------------------------------------------------------------
# UCI HAR: a download. These tests serve a fixture archive of the repository's layout (a zip
# holding "UCI HAR Dataset.zip") through a file:// URL; nothing is fetched from the network.


def uci_har_fixture(folder, *, windows=(6, 3), steps=128, bad=None):
    """A small archive laid out as the UCI repository's; ``bad`` replaces one file's text."""
    import io
    import zipfile

    rng = np.random.default_rng(0)
    files = {}
    for split, count in zip(("train", "test"), windows, strict=True):
        labels = np.arange(count) % 6 + 1
        files[f"{split}/y_{split}.txt"] = "\n".join(map(str, labels)) + "\n"
        for signal in uci_har.SIGNALS:
            values = rng.normal(size=(count, steps)) + (3.0 if signal == "total_acc_x" else 0)
            files[f"{split}/Inertial Signals/{signal}_{split}.txt"] = "\n".join(
                "  " + " ".join(f"{v:.7e}" for v in row) for row in values
            )
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name, text in {**files, **(bad or {})}.items():
            archive.writestr(f"UCI HAR Dataset/{name}", text)
    outer = folder / "human+activity+recognition+using+smartphones.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("UCI HAR Dataset.zip", inner.getvalue())
        archive.writestr("UCI HAR Dataset.names", "names")
    return outer


@pytest.fixture
def har_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CURRICULUM_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_uci_har_downloads_once_and_loads_the_notes_layout(har_cache, monkeypatch):
    archive = uci_har_fixture(har_cache)
    monkeypatch.setattr(uci_har, "URL", archive.as_uri())
    source = datasets.load_source("uci_har")
    x_train, y_train = source.train
    assert x_train.shape == (6, 128, 9) and source.test[0].shape == (3, 128, 9)
    assert list(y_train) == [0, 1, 2, 3, 4, 5] and source.num_classes == 6
    described = datasets.description("uci_har")  # what summary sees, offline
    assert (described.input_shape, described.num_classes, described.class_names) == (
        source.input_shape, source.num_classes, source.class_names,
    )  # fmt: skip
    # channels standardised with training statistics (total_acc_x was centred on 3)
    np.testing.assert_allclose(x_train.reshape(-1, 9).mean(axis=0), 0, atol=1e-5)
    assert not (har_cache / "cache" / "uci_har" / "uci_har.zip").exists()  # converted, deleted
    archive.unlink()  # the second load reads the cache only
    assert datasets.load_source("uci_har", scale=False).train[0][..., 6].mean() > 2
    # the notes' HAR model takes it as it is
    config = load_yaml_config("notes/001_b9_har_lstm.yaml")
    model = models.build(config.model.name, **config.model.arguments)
    assert model.predict(x_train, verbose=0).shape == (6, 6)


def test_uci_har_offline_is_a_one_line_error(har_cache, monkeypatch):
    monkeypatch.setattr(uci_har, "URL", (har_cache / "absent.zip").as_uri())
    with pytest.raises(CurriculumError, match=r"^uci_har: cannot download ") as error:
        datasets.load_source("uci_har")
    assert "\n" not in str(error.value)
    assert not uci_har.path().exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"train/y_train.txt": "1\n2\n3\n4\n5\n7\n"}, "labels must be 1–6"),
        ({"test/Inertial Signals/body_gyro_y_test.txt": "1 2 3\n"}, "expected 128 values a line"),
    ],
)
def test_malformed_uci_har_archive_names_the_file(har_cache, monkeypatch, bad, message):
    monkeypatch.setattr(uci_har, "URL", uci_har_fixture(har_cache, bad=bad).as_uri())
    with pytest.raises(CurriculumError, match=message) as error:
        datasets.load_source("uci_har")
    assert next(iter(bad)) in str(error.value) and "\n" not in str(error.value)
    assert not uci_har.path().exists()  # nothing half-converted is left in the cache


# ---------------------------------------------------------------------------------------------
# Masking


def test_padded_series_gets_the_prediction_of_the_unpadded_one():
    source = datasets.load_source("ucr", problem="JapaneseVowels")
    model = models.build("sequence_classifier", metadata={**source.extras}, input_shape=(None, 12),
                         num_classes=9, cell="lstm", units=[16, 16], bidirectional=True)  # fmt: skip
    train, _ = ucr.read_problem("JapaneseVowels")
    mean, std = ucr.channel_statistics(train.series)
    short = next(s for s in train.series if len(s) < 15)
    short = ((short - mean) / std)[None].astype(np.float32)
    padded = ucr.pad([short[0]], 29)
    np.testing.assert_allclose(
        model.predict(short, verbose=0), model.predict(padded, verbose=0), atol=1e-5
    )
    unmasked = models.build(
        "sequence_classifier", input_shape=(None, 12), num_classes=9, units=[16]
    )
    assert not np.allclose(
        unmasked.predict(short, verbose=0), unmasked.predict(padded, verbose=0), atol=1e-5
    )


# ---------------------------------------------------------------------------------------------
# Forecasting: scaling and windows


def test_forecaster_scaling_uses_training_statistics_only():
    series = np.concatenate([np.linspace(0.0, 10.0, 200), np.full(50, 1000.0)])
    options = dict(name="toy", seasonal_period=4, window=8, horizon=1,
                   test_fraction=0.2, validation_fraction=0.1)  # fmt: skip
    source = forecasting.forecasting_source(series, **options)
    fit = series[: source.extras["fit_end"]]
    assert source.extras["scaling"]["mean"] == pytest.approx(fit.mean())
    assert source.extras["scaling"]["std"] == pytest.approx(fit.std())
    # The test part's values (1000s) change nothing in what training sees.
    changed = forecasting.forecasting_source(
        np.concatenate([series[:200], -series[200:]]), **options
    )
    np.testing.assert_array_equal(source.train[0], changed.train[0])
    np.testing.assert_array_equal(source.train[1], changed.train[1])


def test_windows_never_cross_the_train_test_boundary():
    length, window, horizon = 120, 10, 3
    index = np.arange(length, dtype=np.float64)  # each value is its own position
    source = forecasting.forecasting_source(
        index, name="positions", seasonal_period=12, window=window, horizon=horizon,
        test_fraction=0.25, validation_fraction=0.2,
    )  # fmt: skip
    scaling = source.extras["scaling"]
    fit_end, test_start = source.extras["fit_end"], source.extras["test_start"]
    positions = {
        part: (np.rint(forecasting.unscale(x[..., 0], scaling)),
               np.rint(forecasting.unscale(y, scaling)))
        for part, (x, y) in (("train", source.train), ("validation", source.validation),
                             ("test", source.test))
    }  # fmt: skip
    x, y = positions["train"]
    assert x.max() < fit_end and y.max() < fit_end
    for part, (start, end) in (
        ("validation", (fit_end, test_start)),
        ("test", (test_start, length)),
    ):
        x, y = positions[part]
        assert y.min() >= start and y.max() < end, part
        # inputs are the window values just before the targets
        np.testing.assert_array_equal(x[:, -1] + 1, y[:, 0])
    # every test value is a one-step target exactly once
    assert sorted(positions["test"][1][:, 0]) == list(range(test_start, length - horizon + 1))


def test_packaged_series_have_their_published_lengths():
    assert {name: len(forecasting.read_series(name)) for name in forecasting.SERIES} == {
        "co2": 2284, "sunspots": 309, "airline": 144,
    }  # fmt: skip
    assert not np.isnan(forecasting.read_series("co2")).any()


def test_adding_problem_baseline_is_one_sixth():
    x, y = adding_examples(20_000, 50, np.random.default_rng(0))
    assert (x[..., 1].sum(axis=1) == 2).all()
    assert (x[:, :25, 1].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE_MSE, abs=0.005)


@pytest.mark.parametrize(
    "lag, horizon, expected",
    [
        (1, 3, [[9, 9, 9]]),  # the last value, for every step ahead
        (4, 3, [[6, 7, 8]]),  # a season of 4 back: x_{T+j−4}
        (4, 6, [[6, 7, 8, 9, 6, 7]]),  # beyond a season, the last season repeats
    ],
)
def test_forecaster_starts_from_the_lagged_naive_forecast(lag, horizon, expected):
    import keras

    model = models.build(
        "sequence_forecaster", input_shape=(10, 1), horizon=horizon, relative_to_lag=lag
    )
    forecast = model.get_layer("forecast")
    forecast.set_weights([np.zeros_like(w) for w in forecast.get_weights()])
    window = np.arange(10, dtype="float32").reshape(1, 10, 1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(window)), expected)


def test_forecaster_lag_beyond_the_window_names_the_field():
    with pytest.raises(CurriculumError, match="model.relative_to_lag"):
        models.build("sequence_forecaster", input_shape=(10, 1), relative_to_lag=11)


# ---------------------------------------------------------------------------------------------
# End to end


@pytest.mark.slow
def test_basic_motions_config_trains_and_its_loss_falls(tmp_path):
    from keras_curriculum.training.trainer import train

    config = load_yaml_config(
        "sequences/lstm_basic_motions.yaml", "training.epochs=8", "training.verbose=0",
        "model.units=[32]",
    )  # fmt: skip
    result = train(config, output_dir=tmp_path)
    losses = result.history["loss"]
    assert losses[-1] < losses[0] - 0.2
    assert result.metrics["test"]["accuracy"] > 0.25  # above chance (4 classes) after 8 epochs
    assert (result.run_dir / "plots" / "confusion_matrix.png").exists()


@pytest.mark.slow
def test_forecasting_config_reports_mase_and_draws_the_forecast(tmp_path):
    from keras_curriculum.training.trainer import train

    config = load_yaml_config(
        "sequences/lstm_airline.yaml", "training.epochs=3", "training.verbose=0"
    )
    result = train(config, output_dir=tmp_path)
    report = result.metrics["forecasting"]
    assert report["test_points"] == 22
    assert report["mase"] > 0 and report["seasonal_naive_mase"] > 0
    assert (result.run_dir / "plots" / "forecast.png").stat().st_size > 5_000


@pytest.mark.slow
@pytest.mark.parametrize("momentum, expect_learned", [(0.9, True), (0.99, False)])
def test_conv_front_end_predicts_in_inference_what_it_learned(momentum, expect_learned):
    """Batch norm's moving statistics follow a run of a few steps an epoch: in inference mode
    the convolutional classifier gets its own training series right, as its training loss says.
    With Keras' default momentum (0.99) they still hold the untrained first epochs' statistics
    after 120 steps, and inference is at chance."""
    import keras

    keras.utils.set_random_seed(0)
    data = datasets.load(
        "ucr", problem="ItalyPowerDemand", batch_size=16, validation_split=0, test_split=0, seed=0
    )
    model = models.build(
        "sequence_classifier",
        metadata=data.info.metadata(),
        units=[],
        conv_filters=[128, 256, 128],  # Wang et al.'s widths
        conv_kernel_sizes=[8, 5, 3],
        batch_norm_momentum=momentum,
    )
    model.compile(
        keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(data.train, epochs=30, verbose=0).history
    assert history["loss"][-1] < 0.2  # learned, judged in training mode
    accuracy = model.evaluate(data.train, verbose=0, return_dict=True)["accuracy"]
    assert (accuracy > 0.9) is expect_learned, accuracy
