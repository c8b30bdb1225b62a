"""The importable zoo: ``models.available / build`` and ``datasets.available / load``.

Real data throughout (scikit-learn's embedded digits and iris, Debian's Fashion-MNIST),
except ``tfds:mnist``, which runs through ``tfds.testing.mock_data`` (random examples with
MNIST's real features and splits) because TFDS would otherwise download MNIST.
"""

from __future__ import annotations

import numpy as np
import pytest

from keras_curriculum import datasets, models
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import MODELS, Entry


def split_arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------------------------------------
# Models


def test_models_available_and_described() -> None:
    names = models.available()
    assert {"mlp", "cnn"} <= set(names)
    assert names == sorted(names)
    assert all(entry.description for entry in models.entries())


def test_build_fills_metadata_and_returns_an_uncompiled_model() -> None:
    model = models.build(
        "mlp", metadata={"input_shape": (8, 8, 1), "num_classes": 10, "class_names": list("abcdefghij")},
        hidden_units=[64],
    )  # fmt: skip
    assert model.count_params() == 4_810  # 64·65 + 10·65, the notes' first network
    assert model.input_shape == (None, 8, 8, 1)
    assert model.output_shape == (None, 10)
    assert not model.compiled


def test_explicit_arguments_win_over_metadata() -> None:
    model = models.build(
        "mlp", metadata={"input_shape": (8, 8, 1), "num_classes": 10}, num_classes=3
    )
    assert model.output_shape == (None, 3)


def test_build_checks_arguments() -> None:
    metadata = {"input_shape": (4,), "num_classes": 3}
    with pytest.raises(
        ConfigError, match=r"model\.hidden_unit: unknown key; did you mean 'hidden_units'\?"
    ):
        models.build("mlp", metadata=metadata, hidden_unit=[3])
    with pytest.raises(ConfigError, match=r"model\.dropout: expected a number, got 'x'"):
        models.build("mlp", metadata=metadata, dropout="x")
    with pytest.raises(ConfigError, match=r"model\.num_classes: missing required argument"):
        models.build("mlp", metadata={"input_shape": (4,)})
    with pytest.raises(CurriculumError, match=r"unknown model 'cnnn'; did you mean 'cnn'\?"):
        models.build("cnnn")


def test_dataclass_arguments_come_from_mappings() -> None:
    model = models.build(
        "cnn",
        metadata={"input_shape": (8, 8, 1), "num_classes": 10},
        conv_blocks=[{"filters": 4, "kernel_size": 3, "pool": "max"}],
        head="global_average",
        dense_units=[],
    )
    convs = [layer for layer in model.layers if "conv" in layer.name.lower() and layer.weights]
    assert convs and convs[0].kernel.shape[-1] == 4
    assert model.output_shape == (None, 10)
    with pytest.raises(ConfigError, match=r"model\.conv_blocks\.0\.filters: expected an integer"):
        models.build("cnn", metadata={"input_shape": (8, 8, 1), "num_classes": 10},
                     conv_blocks=[{"filters": "many"}])  # fmt: skip


def test_any_metadata_field_fills_a_parameter_of_that_name(monkeypatch) -> None:
    seen = {}

    def factory(*, input_shape, num_classes, vocabulary, width: int = 2):
        """A test factory that takes a source's extra."""
        seen.update(vocabulary=vocabulary, width=width)
        import keras

        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(num_classes)(inputs))

    monkeypatch.setitem(MODELS._entries, "extras_probe", Entry("extras_probe", factory, "probe"))
    metadata = {"input_shape": (3,), "num_classes": 2, "vocabulary": ["a", "b"], "unused": 1}
    model = models.build("extras_probe", metadata=metadata, width=5)
    assert seen == {"vocabulary": ["a", "b"], "width": 5}
    assert model.output_shape == (None, 2)


def test_output_layer_is_float32_under_mixed_precision() -> None:
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    model = models.build("mlp", metadata={"input_shape": (4,), "num_classes": 3})
    assert model.layers[1].compute_dtype == "float16"
    assert model.output.dtype == "float32"


# ---------------------------------------------------------------------------------------------
# Datasets


def test_datasets_available_and_described() -> None:
    names = datasets.available()
    assert {"digits", "iris", "breast_cancer", "wine", "fashion_mnist"} <= set(names)
    assert all(entry.description for entry in datasets.entries())
    with pytest.raises(CurriculumError, match=r"unknown dataset 'digts'; did you mean 'digits'\?"):
        datasets.load("digts")


def test_digits_splits_are_stratified_and_complete() -> None:
    data = datasets.load("digits", batch_size=32, validation_split=0.1, test_split=0.2, seed=0)
    info = data.info
    assert (info.name, info.task, info.input_shape, info.num_classes) == (
        "digits",
        "classification",
        (8, 8, 1),
        10,
    )
    assert info.class_names == [str(i) for i in range(10)]
    sizes = info.num_examples
    assert sum(sizes.values()) == 1797
    assert sizes["test"] == 360 and sizes["validation"] == 144 and sizes["train"] == 1293

    splits = {name: split_arrays(getattr(data, name)) for name in ("train", "validation", "test")}
    all_labels = np.concatenate([y for _, y in splits.values()])
    overall = np.bincount(all_labels, minlength=10) / len(all_labels)
    for name, (x, y) in splits.items():
        assert len(y) == sizes[name]
        assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
        # stratified: each class within one example of its share of the whole set
        expected = overall * len(y)
        assert np.all(np.abs(np.bincount(y, minlength=10) - expected) <= 1.0), name
    assert info.metadata() == {
        "input_shape": (8, 8, 1),
        "num_classes": 10,
        "class_names": info.class_names,
    }


def test_batches() -> None:
    data = datasets.load("digits", batch_size=100, seed=0)
    sizes = [int(x.shape[0]) for x, _ in data.train]
    assert sizes == [100] * 12 + [93]
    assert data.batch_size == 100
    x, y = next(iter(data.test))
    assert tuple(x.shape) == (100, 8, 8, 1) and tuple(y.shape) == (100,)


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_epoch() -> None:
    def epochs(seed: int, count: int = 2) -> list[np.ndarray]:
        data = datasets.load("digits", batch_size=64, seed=seed)
        return [split_arrays(data.train)[0].reshape(-1, 64)[:, :8] for _ in range(count)]

    first, second = epochs(0), epochs(0)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    assert not np.array_equal(first[0], epochs(1, count=1)[0])  # another seed, another order


@pytest.mark.parametrize("shuffle_buffer", [None, 40])
def test_arrays_are_batched_as_a_shuffle_of_the_examples_would_batch_them(shuffle_buffer):
    """The array pipeline shuffles positions and gathers batches; its batches are those of
    tf.data's shuffle of the examples themselves with the same seed and buffer, epoch after
    epoch, nested inputs included."""
    import tensorflow as tf

    from keras_curriculum.datasets import _pipeline

    rng = np.random.default_rng(0)
    split = ((rng.random((203, 4, 3), np.float32), np.arange(203)), rng.integers(0, 5, 203))
    options = dict(batch_size=32, shuffle=True, seed=7, shuffle_buffer=shuffle_buffer)
    gathered = _pipeline(split, cache=False, **options)
    examples = (
        tf.data.Dataset.from_tensor_slices(split)
        .shuffle(shuffle_buffer or 203, seed=7, reshuffle_each_iteration=True)
        .batch(32)
    )
    assert gathered.element_spec == examples.element_spec
    for _ in range(2):
        for ours, theirs in zip(gathered, examples, strict=True):
            for a, b in zip(tf.nest.flatten(ours), tf.nest.flatten(theirs), strict=True):
                np.testing.assert_array_equal(a, b)


def test_held_out_splits_follow_the_seed() -> None:
    def test_labels(seed):
        return split_arrays(datasets.load("digits", seed=seed, validation_split=0.0).test)[1]

    np.testing.assert_array_equal(test_labels(0), test_labels(0))
    assert not np.array_equal(test_labels(0), test_labels(3))


def test_no_hold_out_when_fractions_are_zero() -> None:
    data = datasets.load("iris", validation_split=0.0, test_split=0.0)
    assert data.validation is None and data.test is None
    assert data.info.num_examples == {"train": 150, "validation": None, "test": None}


def test_standardisation_uses_training_statistics() -> None:
    data = datasets.load("wine", batch_size=1000, seed=0)
    x_train, _ = split_arrays(data.train)
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1.0, atol=1e-4)
    x_test, _ = split_arrays(data.test)
    assert np.abs(x_test.mean(axis=0)).max() > 1e-3  # test data only borrows the statistics


def test_inputs_as_targets_keep_the_labels() -> None:
    data = datasets.load("digits", batch_size=50, targets="inputs", seed=0)
    x, target = next(iter(data.test))
    np.testing.assert_array_equal(x.numpy(), target.numpy())
    assert data.info.task == "reconstruction"
    assert set(data.labels) == {"train", "validation", "test"}
    assert len(data.labels["test"]) == data.info.num_examples["test"]


def test_bad_load_options() -> None:
    with pytest.raises(ConfigError, match=r"data\.validation_split: expected a fraction"):
        datasets.load("digits", validation_split=1.5)
    with pytest.raises(ConfigError, match=r"data\.batch_size"):
        datasets.load("digits", batch_size=0)
    with pytest.raises(ConfigError, match=r"data\.train_size: unknown key"):
        datasets.load("digits", train_size=10)


def test_fashion_mnist_subset() -> None:
    data = datasets.load("fashion_mnist", train_size=600, test_size=200, batch_size=128, seed=0)
    info = data.info
    assert info.input_shape == (28, 28, 1) and info.num_classes == 10
    assert info.class_names[0] == "T-shirt/top" and info.class_names[9] == "Ankle boot"
    assert info.num_examples == {"train": 540, "validation": 60, "test": 200}
    x, y = split_arrays(data.test)
    assert x.shape == (200, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    assert np.all(np.bincount(y, minlength=10) == 20)  # a stratified subset


def test_tfds_mnist_through_mock_data() -> None:
    """tfds:<name> on a mocked MNIST (``tfds.testing.mock_data``): no download."""
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=40):
        data = datasets.load("tfds:mnist", batch_size=8, validation_split=0.25, seed=1)
        info = data.info
        assert (info.name, info.input_shape, info.num_classes) == ("tfds:mnist", (28, 28, 1), 10)
        assert info.class_names == [str(i) for i in range(10)]
        x, y = next(iter(data.train))
        assert x.dtype.name == "float32" and tuple(x.shape) == (8, 28, 28, 1)
        assert float(np.max(x)) <= 1.0  # uint8 images scaled to [0, 1]
        train, validation = split_arrays(data.train), split_arrays(data.validation)
        assert len(train[1]) + len(validation[1]) == 40  # the stream's hold-out keeps every example
        assert 0 < len(validation[1]) < 40
        assert len(split_arrays(data.test)[1]) == 40  # MNIST's own test split
        again = datasets.load("tfds:mnist", batch_size=8, validation_split=0.25, seed=1)
        np.testing.assert_array_equal(split_arrays(again.validation)[1], validation[1])


def test_tfds_names_resolve_by_prefix() -> None:
    entry = datasets.get("tfds:cifar10")
    assert entry.name == "tfds:cifar10" and "cifar10" in entry.description
    assert "tfds:cifar10" not in datasets.available()
