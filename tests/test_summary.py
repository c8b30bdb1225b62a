"""``keras-curriculum summary`` builds each config's model from its dataset's description alone:
offline, without loading the examples, with the parameter count of the model that the loaded
data gives, and for the notes' configs with the notes' own counts (CURRICULUM.md)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest
from conftest import CONFIGS

from keras_curriculum import datasets, models
from keras_curriculum.datasets.source import Source

CONFIG_FILES = sorted(CONFIGS.glob("*.yaml")) + sorted((CONFIGS / "notes").glob("*.yaml"))

# The parameter counts of CURRICULUM.md's fixture table (rows marked "build it" hold the count
# the notes' architecture builds with, checked there with Keras 3).
CURRICULUM_COUNTS = {
    4_810, 7_905, 608, 104, 152_259, 456, 4_200_842, 2_691_713, 679_105, 179_105, 30_485,
    122_570, 164_160, 590_080, 1_250_858, 79_510, 7_874, 16_130, 99_137, 9_285, 22_214, 48_909,
    4_800, 669_706,
}  # fmt: skip

# Options that make a source quicker to load (the description is made with the same options).
SMALL = {
    "fashion_mnist": ["data.train_size=200", "data.test_size=100"],
    "fashion_mnist_masks": ["data.train_size=100", "data.test_size=50"],
    "image_generation": ["data.source_options={train_size: 200, test_size: 100}"],
    "metric_learning": ["data.source_options={train_size: 200, test_size: 100}"],
    "mnist_5k": ["data.train_size=200"],
    "movie_review_polarity": ["data.size=300"],
    "nuclei": ["data.train_crops=4"],
    "nuclei_boxes": ["data.train_crops=4"],
    "object_canvases": ["data.train_size=8", "data.validation_size=2", "data.test_size=2"],
    "seq2seq_addition": ["data.train_size=300", "data.validation_size=20", "data.test_size=50"],
    "seq2seq_dates": ["data.train_size=300", "data.validation_size=20", "data.test_size=50"],
    "seq2seq_reversal": ["data.train_size=300", "data.validation_size=20", "data.test_size=50"],
    "shapes": ["data.train_size=20", "data.test_size=10"],
}


@pytest.fixture
def offline(monkeypatch):
    """No connection can be opened: a download attempt fails at once."""

    def refuse(*args, **kwargs):
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def described(name: str) -> bool:
    """Whether dataset ``name`` has a description (else ``datasets.description`` loads it)."""
    return any(name == key or (key.endswith(":") and name.startswith(key)) for key in
               datasets.describers)  # fmt: skip


def summary(path: Path, capsys) -> tuple[int, int, str]:
    """(total, trainable, printed text) of ``keras-curriculum summary --config PATH``."""
    from keras_curriculum import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", "--config", str(path)])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 0, err
    counts = [
        int(re.search(rf"^{label} params: ([\d,]+)$", out, re.M).group(1).replace(",", ""))
        for label in ("Total", "Trainable")
    ]
    return counts[0], counts[1], out


def relative(path: Path) -> str:
    return str(path.relative_to(CONFIGS))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=relative)
def test_summary_builds_from_the_description_offline(path, offline, monkeypatch, capsys):
    from keras_curriculum.training import load_config

    config = load_config(path)
    if not described(config.data.name):
        pytest.skip(f"'{config.data.name}' has no description: summary would load it")

    # A loader ends by making its Source: a description never does.
    def loaded(*args, **kwargs):
        raise AssertionError(f"summary loaded '{config.data.name}'")

    monkeypatch.setattr(Source, "__init__", loaded)
    total, trainable, _ = summary(path, capsys)
    if path.parent.name == "notes":
        expected = re.findall(r"\(([\d,]+)(?: parameters| / ([\d,]+) trainable)?\)",
                              config.description)  # fmt: skip
        assert expected, f"{path.name}: its description gives no parameter count"
        published, published_trainable = expected[-1]
        assert total == int(published.replace(",", ""))
        assert total in CURRICULUM_COUNTS
        if published_trainable:
            assert trainable == int(published_trainable.replace(",", ""))


def test_every_configs_dataset_is_described():
    """So that summary loads nothing: a source without a description (register_metadata) is
    loaded by ``datasets.description``, which takes minutes for some."""
    from keras_curriculum.training import load_config

    names = {load_config(path).data.name for path in CONFIG_FILES}
    assert sorted(name for name in names if not described(name)) == []


def parameters(name: str, metadata: dict, arguments: dict) -> tuple[int, int]:
    model = models.build(name, metadata=metadata, **arguments)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return model.count_params(), trainable


def same(a, b) -> bool:
    return list(a) == list(b) if isinstance(a, tuple | list) else a == b


@pytest.mark.parametrize("path", CONFIG_FILES, ids=relative)
def test_description_agrees_with_the_loaded_data(path):
    """Every field of the description equals the loaded data's; a field only the loaded data
    has (the training sentences) leaves the model's parameter count unchanged."""
    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import load_data

    config = load_config(path)
    name = config.data.name
    if name.startswith("tfds:") or name == "oxford_iiit_pet":
        pytest.skip("TFDS data needs a download: see the mock-data test")
    if name == "uci_har":
        pytest.skip("UCI HAR needs a download: see the fixture-archive test in test_sequences.py")
    if name == "wiki_sample":
        pytest.skip("the corpus code of lee, on 8 times the words (a minute's load)")
    if not described(name):
        pytest.skip(f"'{name}' has no description: summary loads it")
    config = load_config(path, SMALL.get(config.data.name, []))
    options = dict(seed=config.seed, model_arguments=config.model.arguments, **config.data.options)
    description = datasets.metadata(config.data.name, **options)
    loaded = load_data(config).info.metadata()
    for key, value in description.items():
        assert same(loaded[key], value), key
    factory = models.get(config.model.name).parameters
    if (set(loaded) - set(description)) & set(factory):
        arguments = config.model.arguments
        assert parameters(config.model.name, description, arguments) == parameters(
            config.model.name, loaded, arguments
        )


@pytest.mark.parametrize(
    "path", [p for p in CONFIG_FILES if "tfds:" in p.read_text()], ids=relative
)
def test_tfds_description_agrees_with_mock_data(path):
    """TFDS sources, loaded through ``tfds.testing.mock_data`` (examples made from the same
    feature specification): the model from the description has the loaded data's count."""
    import tensorflow_datasets as tfds

    from keras_curriculum.training import load_config
    from keras_curriculum.training.trainer import load_data

    config = load_config(path)
    options = dict(seed=config.seed, model_arguments=config.model.arguments, **config.data.options)
    description = datasets.metadata(config.data.name, **options)
    with tfds.testing.mock_data(num_examples=8):
        loaded = load_data(config).info.metadata()
        arguments = config.model.arguments
        assert parameters(config.model.name, description, arguments) == parameters(
            config.model.name, loaded, arguments
        )


def test_text_summary_says_how_the_loaded_model_differs(offline, capsys):
    total, _, out = summary(CONFIGS / "notes" / "000_sentiment_lstm.yaml", capsys)
    assert total == 7_905
    assert "token ids" in out and "TextVectorization" in out


def test_a_config_error_in_the_data_section_is_one_line(capsys):
    from keras_curriculum import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", "-c", "configs/unet_shapes.yaml", "--set", "data.image_size=8"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "data.image_size" in err


# ---------------------------------------------------------------------------------------------
# data.validation_split / data.test_split: one meaning, and a source that cannot honour it says so


def test_a_split_fraction_a_source_cannot_honour_is_an_error():
    from keras_curriculum.errors import ConfigError

    # The text source makes its own three splits (validation_size / test_size).
    with pytest.raises(ConfigError, match=r"data\.validation_split: 'movie_review_polarity' makes"):
        datasets.load("movie_review_polarity", size=100, validation_split=0.3)
    # Fashion-MNIST has its own test set: 0.3 of its training images cannot become it.
    with pytest.raises(ConfigError, match=r"data\.test_split: 'fashion_mnist' makes its own test"):
        datasets.load("fashion_mnist", train_size=100, test_size=50, test_split=0.3)
    # 0 (hold nothing out) and the default are honoured by every source.
    data = datasets.load("fashion_mnist", train_size=100, test_size=50, test_split=0,
                         validation_split=0.2)  # fmt: skip
    assert data.info.num_examples == {"train": 80, "validation": 20, "test": 50}


def test_a_factory_error_is_one_line(capsys):
    """A value the model's factory rejects (a dropout rate above 1) is reported as training
    reports it: one line naming the field, exit status 2."""
    from keras_curriculum import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", "-c", "configs/mlp_digits.yaml", "--set", "model.dropout=1.5"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "model.dropout" in err
