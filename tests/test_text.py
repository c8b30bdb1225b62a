"""Text classification: the sources, the saved vectorizer, masking, attention, training.

Real sentences from movie_review_polarity (prepared by `keras-curriculum data prepare
movie_review_polarity`); the TFDS configs (IMDB, SST-2) run on `tfds.testing.mock_data`,
which makes random strings: it proves the plumbing, not accuracy.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from conftest import CONFIGS, load_yaml_config, run_cli

from keras_curriculum import datasets, models
from keras_curriculum.models.transformer import attention_weights, scaled_dot_product_attention

SMALL_RNN = {"vocabulary_size": 3000, "embedding_dim": 16, "units": [16]}
SMALL_TRANSFORMER = {
    "vocabulary_size": 3000,
    "sequence_length": 48,
    "embedding_dim": 16,
    "num_heads": 2,
    "feed_forward_dim": 32,
    "num_blocks": 1,
    "dropout": 0.0,
}


@pytest.fixture(scope="module")
def reviews() -> datasets.Source:
    return datasets.load_source("movie_review_polarity", size=1500, seed=0)


def texts(array) -> np.ndarray:
    return np.asarray(array, dtype=object)


# ---------------------------------------------------------------------------------------------
# Sources


def test_movie_review_polarity_counts_and_folds():
    full = datasets.load_source("movie_review_polarity")
    sizes = [len(full.train[0]), len(full.validation[0]), len(full.test[0])]
    assert sum(sizes) == 10_568  # 10,605 sentences less the 37 rated exactly 0
    assert full.class_names == ["negative", "positive"]
    assert full.extras["train_texts"] is full.train[0]
    everything = np.concatenate([full.train[1], full.validation[1], full.test[1]])
    assert np.bincount(everything).tolist() == [5326, 5242]
    # The 10 test folds partition the set: every sentence is tested exactly once.
    tested = np.concatenate(
        [datasets.load_source("movie_review_polarity", fold=k).test[0] for k in range(10)]
    )
    all_texts = np.concatenate([full.train[0], full.validation[0], full.test[0]])
    assert sorted(tested) == sorted(all_texts)


def test_text_table_and_folder(tmp_path, reviews):
    x, y = reviews.train[0][:120], reviews.train[1][:120]
    table = tmp_path / "reviews.tsv"
    rows = ["text\tlabel"] + [f"{t}\t{'pos' if k else 'neg'}" for t, k in zip(x, y, strict=True)]
    table.write_text("\n".join(rows) + "\n")
    source = datasets.load_source("text_table", path=str(table), test_size=0.2, validation_size=0.1)
    assert source.class_names == ["neg", "pos"]
    # The description reads the same columns: the loader's defaults stand in for the describer's.
    assert datasets.description("text_table", path=str(table)).class_names == ["neg", "pos"]
    assert sum(len(s[0]) for s in (source.train, source.validation, source.test)) == 120
    assert set(source.train[0]) <= set(x) and source.extras["train_texts"] is source.train[0]

    for name in ("neg", "pos"):
        (tmp_path / "folder" / name).mkdir(parents=True)
    for index, (text, label) in enumerate(zip(x, y, strict=True)):
        (tmp_path / "folder" / ("pos" if label else "neg") / f"{index}.txt").write_text(text)
    folder = datasets.load_source("text_folder", path=str(tmp_path / "folder"), test_size=0.25)
    assert folder.class_names == ["neg", "pos"]
    assert len(folder.test[0]) == 30 and set(folder.test[0]) <= set(x)
    labels = dict(zip(x, y, strict=True))
    assert all(labels[t] == k for t, k in zip(folder.train[0], folder.train[1], strict=True))


# ---------------------------------------------------------------------------------------------
# The vectorizer: adapted on the training split only, saved inside the model


def test_vectorizer_is_adapted_on_training_sentences_only(reviews):
    model = models.build(
        "rnn_classifier",
        metadata=reviews_metadata(reviews),
        vocabulary_size=None,
        embedding_dim=8,
        units=[4],
    )
    vectorizer = model.get_layer("vectorizer")
    vocabulary = set(vectorizer.get_vocabulary())
    train_words = {word for sentence in reviews.train[0] for word in words(sentence)}
    unseen = sorted(
        {word for sentence in reviews.test[0] for word in words(sentence)} - train_words
    )
    assert len(unseen) > 20  # test-only words exist…
    assert not vocabulary & set(unseen)  # …and none is in the vocabulary
    ids = np.asarray(vectorizer(texts(unseen[:10])))
    assert (ids[:, 0] == 1).all()  # each maps to the out-of-vocabulary id [UNK]
    assert set(words(reviews.train[0][0])) <= vocabulary


def words(sentence: str) -> list[str]:
    # As the vectorizer's "lower_and_strip_punctuation" standardisation, then whitespace split.
    return re.sub(r"[^\w\s]", "", sentence.lower()).split()


def reviews_metadata(source: datasets.Source) -> dict:
    return {"train_texts": source.extras["train_texts"], "num_classes": 2}


@pytest.mark.parametrize("name", ["rnn_classifier", "transformer_classifier"])
def test_reloaded_model_takes_raw_strings(tmp_path, reviews, name):
    options = SMALL_RNN if name == "rnn_classifier" else SMALL_TRANSFORMER
    model = models.build(name, metadata=reviews_metadata(reviews), **options)
    model.compile("adam", "binary_crossentropy")
    model.fit(
        texts(reviews.train[0][:256]), reviews.train[1][:256], epochs=1, batch_size=64, verbose=0
    )
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    sentences = texts(
        ["a gorgeous, witty film", "dull, tedious and far too long", *reviews.test[0][:6]]
    )
    np.testing.assert_allclose(
        reloaded.predict(sentences, verbose=0), model.predict(sentences, verbose=0), atol=1e-6
    )
    assert reloaded.inputs[0].dtype == "string"
    if name == "transformer_classifier":  # a class whose config and report interface reload
        assert type(reloaded) is type(model) and reloaded.get_config() == model.get_config()
        (tokens, weights), (tokens_again, weights_again) = (
            m.attention_maps(["a gorgeous, witty film"])[0] for m in (model, reloaded)
        )
        assert tokens == tokens_again == ["a", "gorgeous", "witty", "film"]
        np.testing.assert_allclose(weights_again, weights, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Padding is masked


@pytest.mark.parametrize(
    "options",
    [
        {"cell": "simple"},
        {"cell": "lstm"},
        {"cell": "gru"},
        {"cell": "lstm", "bidirectional": True, "units": [8, 8]},
    ],
    ids=["simple", "lstm", "gru", "stacked-bilstm"],
)
def test_rnn_padding_does_not_change_the_prediction(options):
    keras.utils.set_random_seed(0)
    model = models.build(
        "rnn_classifier",
        vocabulary_size=50,
        sequence_length=None,
        embedding_dim=8,
        **{"units": [8], **options},
    )
    sentence = np.array([[5, 17, 3, 42, 9]])
    padded = np.array([[5, 17, 3, 42, 9, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(sentence, verbose=0), atol=1e-6
    )
    # Sanity: the tokens themselves do matter.
    assert not np.allclose(
        model.predict(np.array([[5, 17, 3, 42, 8]]), verbose=0), model.predict(sentence, verbose=0)
    )


def test_rnn_text_padding_to_the_longest_sentence_is_masked(reviews):
    # With no fixed sequence_length a batch is padded to its longest sentence.
    model = models.build(
        "rnn_classifier", metadata=reviews_metadata(reviews), **SMALL_RNN, cell="gru"
    )
    short, long = (
        "a gorgeous, witty film",
        reviews.train[0][np.argmax([len(t) for t in reviews.train[0]])],
    )
    alone = model.predict(texts([short]), verbose=0)
    beside_long = model.predict(texts([short, long]), verbose=0)[:1]
    np.testing.assert_allclose(beside_long, alone, atol=1e-6)


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_transformer_padding_does_not_change_the_prediction(positions):
    keras.utils.set_random_seed(0)
    model = models.build(
        "transformer_classifier",
        **{**SMALL_TRANSFORMER, "vocabulary_size": 50},
        positions=positions,
    )
    sentence = np.array([[5, 17, 3, 42, 9]])
    padded = np.array([[5, 17, 3, 42, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(sentence, verbose=0), atol=1e-5
    )
    assert not np.allclose(
        model.predict(np.array([[9, 42, 3, 17, 5]]), verbose=0), model.predict(sentence, verbose=0)
    )


# ---------------------------------------------------------------------------------------------
# Attention


def test_attention_weights_sum_to_one_and_ignore_padding(reviews):
    model = models.build(
        "transformer_classifier",
        metadata=reviews_metadata(reviews),
        **{**SMALL_TRANSFORMER, "num_blocks": 2},
    )
    maps = attention_weights(model, "a gorgeous, witty film")
    assert maps.tokens[:4] == ["a", "gorgeous", "witty", "film"] and maps.tokens[4] == ""
    assert maps.weights.shape == (2, 2, 48, 48)  # blocks, heads, queries, keys
    np.testing.assert_allclose(maps.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert maps.is_token.sum() == 4
    assert np.abs(maps.weights[..., ~maps.is_token]).max() < 1e-7  # no query attends to padding
    tokens, trimmed = maps.trimmed()
    assert len(tokens) == 4 and trimmed.shape == (2, 2, 4, 4)
    np.testing.assert_allclose(trimmed.sum(axis=-1), 1.0, atol=1e-5)


def test_scaled_dot_product_attention_formula():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 3, 4)).astype("float32") for _ in range(3))
    mask = np.array([[[True, True, False]] * 3])
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = q[0] @ k[0].T / 2.0  # √d_k = √4
    scores[:, 2] = -np.inf
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights)[0], expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(output)[0], expected @ v[0], atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Training on real sentences


@pytest.mark.parametrize(
    "name, options",
    [
        ("rnn_classifier", {"cell": "simple"}),
        ("rnn_classifier", {"cell": "lstm"}),
        ("rnn_classifier", {"cell": "gru"}),
        ("rnn_classifier", {"cell": "lstm", "bidirectional": True}),
        ("transformer_classifier", {}),
    ],
    ids=["simple", "lstm", "gru", "bilstm", "transformer"],
)
def test_each_model_learns_on_real_sentences(reviews, name, options):
    keras.utils.set_random_seed(0)
    base = SMALL_RNN if name == "rnn_classifier" else SMALL_TRANSFORMER
    model = models.build(name, metadata=reviews_metadata(reviews), **base, **options)
    model.compile(keras.optimizers.Adam(0.005), "binary_crossentropy")
    x, y = texts(reviews.train[0][:512]), reviews.train[1][:512]
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0).history["loss"]
    after = model.evaluate(x, y, verbose=0)
    assert history[-1] < history[0]
    assert after < before - 0.05


# ---------------------------------------------------------------------------------------------
# The notes' models, the trainer and the CLI


def trainable_count(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


@pytest.mark.parametrize(
    "config, total, trainable",
    [
        ("notes/000_sentiment_lstm.yaml", 7_905, 7_905),
        ("notes/001_b9_frozen_embedding_lstm.yaml", 679_105, 179_105),
        ("notes/001_app_a_imdb_lstm.yaml", 2_691_713, 2_691_713),
    ],
)
def test_notes_sequence_models_have_exact_parameter_counts(config, total, trainable):
    config = load_yaml_config(config)
    # Token-id input (no data): the count is the notes' own.
    model = models.build(config.model.name, **config.model.arguments)
    assert (model.count_params(), trainable_count(model)) == (total, trainable)
    if config.data.name == "movie_review_polarity":
        # Raw-string input, vectorizer adapted on real sentences: the same count.
        source = datasets.load_source("movie_review_polarity", size=500)
        text_model = models.build(
            config.model.name, metadata=reviews_metadata(source), **config.model.arguments
        )
        assert (text_model.count_params(), trainable_count(text_model)) == (total, trainable)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from keras_curriculum.training.trainer import train

    config = load_yaml_config(
        "text_gru_mr.yaml",
        "data.size=1200",
        "training.epochs=1",
        "training.verbose=0",
        "model.embedding_dim=16",
        "model.units=[8]",
    )
    return train(config, output_dir=tmp_path_factory.mktemp("runs"))


def test_trainer_run_and_predict_command(text_run):
    from keras_curriculum.cli.text import predict_texts

    assert text_run.data.info.task == "classification"
    assert text_run.metrics["parameters"]["total"] == text_run.model.count_params()
    saved = keras.saving.load_model(text_run.run_dir / "model.keras")
    sentences = ["a gorgeous, witty film", "a dull, lifeless mess"]
    expected = predict_texts(text_run.model, sentences, ["negative", "positive"])
    assert predict_texts(saved, sentences, ["negative", "positive"]) == expected

    result = run_cli("keras-curriculum", "predict", str(text_run.run_dir), *sentences, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line, (label, probability), sentence in zip(lines, expected, sentences, strict=True):
        printed_label, printed_probability, printed_text = line.split("\t")
        assert (printed_label, printed_text) == (label, sentence)
        assert abs(float(printed_probability) - probability) < 1e-3 and probability >= 0.5


def test_predict_command_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    from keras_curriculum import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict", str(tmp_path), "a fine film"])
    assert exit_info.value.code == 2
    assert "not a run directory" in capsys.readouterr().err


def test_text_configs_check_and_summarise():
    from keras_curriculum.errors import ConfigError

    for path in sorted(CONFIGS.glob("text_*.yaml")):
        config = load_yaml_config(path.name)
        assert config.model.name in ("rnn_classifier", "transformer_classifier"), path
    with pytest.raises(ConfigError, match="model.cell"):
        load_yaml_config("text_lstm_mr.yaml", "model.cell=tree")
    result = run_cli(
        "keras-curriculum", "summary", "-c", "configs/notes/000_sentiment_lstm.yaml", timeout=300
    )
    assert result.returncode == 0, result.stderr
    # Built from the data's description (no sentences read): token-id input, same count.
    assert "Total params: 7,905" in result.stdout and "token_ids" in result.stdout
    assert "TextVectorization" in result.stdout  # the note: trained, it takes raw strings


def test_attention_report_draws_the_maps(tmp_path):
    from keras_curriculum.reports.attention import attention_report

    data = datasets.load("movie_review_polarity", size=400, batch_size=32)
    model = models.build(
        "transformer_classifier", metadata=data.info.metadata(), **SMALL_TRANSFORMER
    )
    report = attention_report(model, data, tmp_path)
    assert report == {"attention_plot": "plots/attention.png"}
    assert (tmp_path / "plots" / "attention.png").stat().st_size > 10_000
    rnn = models.build("rnn_classifier", metadata=data.info.metadata(), **SMALL_RNN)
    assert attention_report(rnn, data, tmp_path / "rnn") == {}


# ---------------------------------------------------------------------------------------------
# TFDS text configs, on mock data


@pytest.mark.parametrize("config", ["notes/001_app_a_imdb_lstm.yaml", "text_sst2_bilstm.yaml"])
def test_tfds_text_configs_train_on_mock_data(tmp_path, config):
    import tensorflow_datasets as tfds

    from keras_curriculum.training.trainer import train

    config = load_yaml_config(
        config,
        "training.epochs=1",
        "training.verbose=0",
        "model.vocabulary_size=200",
        "model.embedding_dim=8",
        "model.units=[4]",
    )
    with tfds.testing.mock_data(num_examples=24):
        result = train(config, output_dir=tmp_path)
    assert result.data.info.class_names in (["neg", "pos"], ["negative", "positive"])
    assert result.model.inputs[0].dtype == "string"
    assert 0 <= result.test["accuracy"] <= 1
    assert (result.run_dir / "model.keras").exists()
