"""Word2vec: the streamed examples (subsampling, negatives, windows), the evaluation against
gensim's, and a short end-to-end run on the Lee corpus (prepared by `keras-curriculum data
prepare lee wordsim353 questions_words`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import load_yaml_config

from keras_curriculum.datasets import word2vec_corpus as corpus
from keras_curriculum.datasets.cache import cached_path
from keras_curriculum.errors import ConfigError
from keras_curriculum.evaluation import word_vectors as wv

# model.keras files written by earlier versions of the models, which must still load
LEGACY = Path(__file__).parent / "fixtures" / "legacy_models"


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _examples(path: Path, *, architecture="skipgram", window=1, sample=0.0, epochs=1, seed=0):
    counts = corpus.count_words([path])
    words, word_counts = corpus.build_vocabulary(counts, min_count=1)
    stream = corpus.example_stream(
        [path], words, word_counts, architecture=architecture, window=window, negatives=2,
        sample=sample, chunk_size=1, seed=seed,
    )  # fmt: skip
    examples = []
    for _ in range(epochs):
        for x, y in stream:
            np.testing.assert_array_equal(y.numpy(), [[1, 0, 0]])
            examples.append({k: v.numpy()[0] for k, v in x.items()})
    return words, examples


def test_pairs_of_a_tiny_corpus_match_the_hand_enumerated_list(tmp_path):
    path = _write_lines(tmp_path / "tiny.txt", ["The quick brown fox.", "", "Jumps over!"])
    words, examples = _examples(path, window=1)  # window 1: the dynamic window is fixed
    pairs = sorted((words[e["target"]], words[e["context"]]) for e in examples)
    assert pairs == sorted([
        ("the", "quick"), ("quick", "the"), ("quick", "brown"), ("brown", "quick"),
        ("brown", "fox"), ("fox", "brown"), ("jumps", "over"), ("over", "jumps"),
    ])  # fmt: skip

    words, examples = _examples(path, architecture="cbow", window=1)
    windows = {words[e["target"]]: sorted(words[i] for i in e["context"] if i) for e in examples}
    assert windows == {
        "the": ["quick"], "quick": ["brown", "the"], "brown": ["fox", "quick"],
        "fox": ["brown"], "jumps": ["over"], "over": ["jumps"],
    }  # fmt: skip


def test_dynamic_window_never_crosses_a_line(tmp_path):
    lines = [" ".join(chr(97 + i) + chr(97 + j) for j in range(12)) for i in range(6)]
    path = _write_lines(tmp_path / "lines.txt", lines)
    line_of = {word: i for i, line in enumerate(lines) for word in line.split()}
    position = {word: j for line in lines for j, word in enumerate(line.split())}
    words, examples = _examples(path, window=4, epochs=3)
    distances = set()
    for e in examples:
        target, context = words[e["target"]], words[e["context"]]
        assert line_of[target] == line_of[context]
        distances.add(abs(position[target] - position[context]))
    assert distances == {1, 2, 3, 4}  # every window size 1..4 is drawn, none beyond


def test_subsampling_keeps_frequent_words_with_mikolovs_probability():
    counts = np.array([0, 50_000, 5_000, 500, 50])
    sample = 1e-3
    threshold = sample * counts.sum()
    expected = [min(1.0, (np.sqrt(f / threshold) + 1) * threshold / f) for f in counts[1:]]
    np.testing.assert_allclose(corpus.keep_probabilities(counts, sample)[1:], expected)
    assert expected[0] < 0.2 and expected[-1] == 1.0

    maker = corpus.ExampleMaker(
        counts, architecture="skipgram", window=2, negatives=5, sample=sample
    )
    trials = 40_000
    ids = tf.constant(np.repeat(np.arange(1, 5), trials), tf.int32)
    kept = maker.subsample(ids, tf.constant([3, 4], tf.int64)).numpy()
    for word, p in enumerate(expected, start=1):
        observed = np.mean(kept == word) * len(kept) / trials
        assert abs(observed - p) < 5 * np.sqrt(p * (1 - p) / trials) + 1e-9


def test_negatives_follow_the_unigram_distribution_to_the_power_three_quarters():
    from scipy import stats

    counts = np.array([0, 4000, 1000, 300, 100, 20, 5])
    maker = corpus.ExampleMaker(counts, architecture="skipgram", window=2, negatives=5, sample=0)
    draws = maker.sample_negatives(tf.constant(40_000), tf.constant([1, 2], tf.int64)).numpy()
    assert draws.shape == (40_000, 5) and draws.min() >= 1 and draws.max() <= 6
    observed = np.bincount(draws.ravel(), minlength=7)[1:]
    expected = counts[1:] ** 0.75 / np.sum(counts[1:] ** 0.75) * draws.size
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # and it is not the plain unigram distribution
    plain = counts[1:] / counts.sum() * draws.size
    assert stats.chisquare(observed, plain).pvalue < 1e-6


def test_a_negative_equal_to_the_true_word_is_drawn_again(tmp_path):
    # "a" is 3/4 of the corpus: as a context it would be its own negative ~60 % of the time
    path = _write_lines(tmp_path / "skewed.txt", ["a a a b a a a c"] * 200)
    words, examples = _examples(path, window=2, epochs=2)
    context = np.array([e["context"] for e in examples])
    negatives = np.array([e["negatives"] for e in examples])
    probability = corpus.negative_distribution(corpus.build_vocabulary(
        corpus.count_words([path]), min_count=1)[1])[words.index("a")]  # fmt: skip
    is_a = context == words.index("a")
    collisions = np.mean(negatives[is_a] == context[is_a, None])
    assert probability > 0.6 and abs(collisions - probability**2) < 0.03  # not ≈ probability


def test_alias_table_holds_exactly_the_distribution():
    probabilities = corpus.negative_distribution(np.array([0, 9000, 700, 650, 30, 2, 1, 1]))[1:]
    keep, alias = corpus.alias_table(probabilities)
    n = len(probabilities)
    # word i owns keep[i] of its own column and 1 - keep[j] of every column j aliased to it
    implied = (keep + np.bincount(alias, weights=1 - keep, minlength=n)) / n
    np.testing.assert_allclose(implied, probabilities, atol=1e-12)
    assert np.all((keep >= 0) & (keep <= 1))


def test_cbow_model_scores_a_chunked_batch_and_reloads(tmp_path):
    import keras

    from keras_curriculum import models

    path = _write_lines(tmp_path / "tiny.txt", ["the quick brown fox jumps over the lazy dog"])
    counts = corpus.count_words([path])
    words, word_counts = corpus.build_vocabulary(counts, min_count=1)
    stream = corpus.example_stream(
        [path], words, word_counts, architecture="cbow", window=2, negatives=3, sample=0,
        chunk_size=4, seed=0,
    )  # fmt: skip
    x, y = next(iter(stream.batch(2)))
    model = models.build("word2vec", vocabulary_size=len(words), architecture="cbow")
    model.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    assert model.predict(x, verbose=0).shape == (2, 4, 4) == tuple(y.shape)
    model.fit(x, y, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(reloaded) is type(model) and reloaded.get_config() == model.get_config()
    (words_saved, table), (words_loaded, table_loaded) = (
        m.word_embeddings(words) for m in (model, reloaded)
    )
    assert words_saved == words_loaded == list(words[1:]) and table.shape == (len(words) - 1, 100)
    np.testing.assert_array_equal(table_loaded, table)


def test_a_model_saved_before_the_word2vec_class_loads_as_one():
    """model.keras of a run made when word2vec was a plain functional model (fixture written by
    that code): models.load gives a Word2Vec with the same vectors."""
    from keras_curriculum import models
    from keras_curriculum.models.word2vec import Word2Vec

    model = models.load(LEGACY / "word2vec_cbow.keras")
    assert isinstance(model, Word2Vec) and model.name == "word2vec_cbow"
    words, table = model.word_embeddings([str(i) for i in range(12)])
    np.testing.assert_array_equal(table, np.load(LEGACY / "word2vec_cbow_vectors.npy")[1:])
    assert words == [str(i) for i in range(1, 12)]


def test_cbow_hidden_layer_is_the_mean_with_word2vecs_full_gradient():
    from keras_curriculum.models.word2vec import context_average

    vectors = tf.Variable(np.arange(24, dtype=np.float32).reshape(1, 1, 4, 6))
    ids = tf.constant([[[5, 7, 9, 0]]])  # three context words and one padding slot
    with tf.GradientTape() as tape:
        hidden = context_average(vectors, ids)
        loss = tf.reduce_sum(hidden)
    np.testing.assert_allclose(hidden.numpy()[0, 0], vectors.numpy()[0, 0, :3].mean(axis=0))
    gradient = tape.gradient(loss, vectors).numpy()[0, 0]
    np.testing.assert_allclose(gradient, [[1] * 6, [1] * 6, [1] * 6, [0] * 6])


def test_epochs_draw_different_examples_from_the_same_corpus(tmp_path):
    path = _write_lines(tmp_path / "text.txt", [" ".join(chr(97 + i % 7) * 2 for i in range(60))])
    words, examples = _examples(path, window=3, epochs=2)
    half = len(examples) // 2
    assert [e["context"] for e in examples[:half]] != [e["context"] for e in examples[half:]]


def _tiny_corpus_data(tmp_path, **options):
    """Lines of 5, 8 and 12 words with window 1 and no subsampling: exactly 2·(n − 1)
    skip-gram examples a line, 46 a pass, so 11 chunks of 4."""
    from keras_curriculum import datasets

    words = [chr(97 + i) * 2 for i in range(12)]
    path = _write_lines(tmp_path / "text.txt", [" ".join(words[:n]) for n in (5, 8, 12)])
    options = {"validation_split": 0, "test_split": 0, **options}
    return datasets.load(
        "text_corpus", path=str(path), min_count=1, window=1, sample=0, chunk_size=4,
        test_chunks=2, **options,
    )  # fmt: skip


def test_training_stream_is_endless_and_an_epoch_is_one_pass(tmp_path):
    data = _tiny_corpus_data(tmp_path, batch_size=2)
    assert data.train.cardinality() == tf.data.INFINITE_CARDINALITY
    assert data.info.num_examples["train"] == 46 // 4
    # Pass after pass with fresh draws: 3 passes' worth of steps, all full batches.
    steps = [x["target"].shape for x, _ in data.train.take(17)]
    assert steps == [(2, 4)] * 17


def test_a_split_held_out_of_the_endless_stream_is_bounded(tmp_path):
    data = _tiny_corpus_data(tmp_path, batch_size=1, validation_split=0.25)
    held = round(0.25 * 11)
    assert sum(1 for _ in data.validation) == held  # a fixed share of one epoch, not endless
    assert data.info.num_examples["train"] == 11 - held
    assert data.train.cardinality() == tf.data.INFINITE_CARDINALITY


def test_trainer_runs_one_pass_of_an_endless_stream_an_epoch(tmp_path, output_dir):
    import keras

    from keras_curriculum.config import ExperimentConfig
    from keras_curriculum.training.trainer import train

    path = _write_lines(tmp_path / "text.txt", [" ".join(chr(97 + i % 12) * 2 for i in range(60))])
    config = ExperimentConfig.model_validate({
        "name": "endless",
        "model": {"name": "word2vec", "embedding_dim": 8},
        "data": {"name": "text_corpus", "path": str(path), "min_count": 1, "window": 1,
                 "sample": 0, "chunk_size": 4, "test_chunks": 2, "batch_size": 2,
                 "validation_split": 0, "test_split": 0},
        "training": {"epochs": 2, "steps_per_execution": 4, "metrics": [],
                     "optimizer": {"name": "sgd", "learning_rate": 1.0},
                     "loss": {"name": "binary_crossentropy", "from_logits": True},
                     "callbacks": {"tensorboard": None, "model_checkpoint": False}},
    })  # fmt: skip

    class Steps(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.last = None

        def on_train_batch_end(self, batch, logs=None):
            self.last = batch

    steps = Steps()
    result = train(config, output_dir=output_dir, callbacks=[steps])
    # 118 examples a pass → 29 chunks → 15 steps of 2, rounded up to whole executions of 4.
    assert result.data.info.num_examples["train"] == 29
    assert steps.last + 1 == 16
    assert len(result.history["loss"]) == 2
    # No WordSim353 pair is in this vocabulary: the report says so instead of failing the run.
    if cached_path("wordsim353", "wordsim353.tsv").exists():
        assert result.metrics["word_vectors"]["wordsim353"] == {"pairs": 0, "oov_ratio": 100.0}


@pytest.fixture(scope="module")
def gensim_lee_vectors():
    gensim = pytest.importorskip("gensim")
    from gensim.models import Word2Vec

    path = corpus.prepared_file("lee", "lee_background.txt")
    sentences = [line.lower().split() for line in path.read_text().splitlines()]
    model = Word2Vec(sentences, vector_size=50, min_count=2, epochs=5, workers=1, seed=1)
    assert gensim.__version__
    return model.wv


def test_evaluation_reproduces_gensims_figures(gensim_lee_vectors):
    kv = gensim_lee_vectors
    ours = wv.WordVectors(list(kv.index_to_key), kv.vectors)
    wordsim = corpus.prepared_file("wordsim353", "wordsim353.tsv")
    pearson, spearman, oov = kv.evaluate_word_pairs(str(wordsim))
    figures = wv.evaluate_word_pairs(ours, wordsim)
    assert figures["spearman"] == pytest.approx(spearman[0], abs=1e-6)
    assert figures["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert figures["oov_ratio"] == pytest.approx(oov)

    questions = corpus.prepared_file("questions_words", "questions-words.txt")
    accuracy, sections = kv.evaluate_word_analogies(str(questions))
    total = sections[-1]
    figures = wv.evaluate_word_analogies(ours, questions)
    assert figures["covered"] == len(total["correct"]) + len(total["incorrect"]) > 0
    assert figures["correct"] == len(total["correct"])
    assert figures["accuracy"] == pytest.approx(accuracy)

    for word in ("government", "police"):
        assert [w for w, _ in ours.most_similar([word], topn=5)] == [
            w for w, _ in kv.most_similar(word, topn=5)
        ]


def test_word2vec_trains_on_lee_and_exports_vectors_gensim_reads(output_dir, capsys):
    from gensim.models import KeyedVectors

    from keras_curriculum import cli
    from keras_curriculum.training.trainer import train

    config = load_yaml_config(
        "word2vec_lee.yaml", "training.epochs=2", "training.callbacks.tensorboard=false"
    )
    result = train(config, output_dir=output_dir)
    run_dir = result.run_dir
    history = result.history["loss"]
    assert history[1] < history[0] < np.log(2)  # below the untrained model's loss
    metrics = json.loads((run_dir / "metrics.json").read_text())
    vocabulary = result.data.info.extras["vocabulary"]
    assert metrics["word_vectors"]["words"] == len(vocabulary) - 1
    if cached_path("wordsim353", "wordsim353.tsv").exists():
        assert 0 < metrics["word_vectors"]["wordsim353"]["pairs"] <= 353
    assert len((run_dir / "metadata.tsv").read_text().splitlines()) == len(vocabulary) - 1
    assert np.loadtxt(run_dir / "vectors.tsv").shape == (len(vocabulary) - 1, 100)

    kv = KeyedVectors.load_word2vec_format(str(run_dir / "vectors.txt"))
    ours = wv.load_word2vec_format(run_dir / "vectors.txt")
    assert kv.index_to_key == vocabulary[1:]
    for word in ("government", "australia", "says"):
        # The same neighbours with the same cosines; two words whose cosines tie to float32
        # precision (2 epochs on a small corpus leave many near 0.9996) may swap places.
        mine, theirs = ours.most_similar([word], topn=5), kv.most_similar(word, topn=5)
        np.testing.assert_allclose([s for _, s in mine], [s for _, s in theirs], atol=1e-6)
        for neighbour, similarity in mine:
            assert kv.similarity(word, neighbour) == pytest.approx(similarity, abs=1e-6)

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli.main(["neighbours", str(run_dir), "government", "--top", "3"])
    assert exit_.value.code == 0
    printed = capsys.readouterr().out.split()
    assert printed[::2] == [w for w, _ in kv.most_similar("government", topn=3)]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["analogy", str(run_dir), "king", "man", "woman"])
    assert exit_.value.code in (0, 2)  # 2 when a word is not in the small Lee vocabulary


def test_tfds_text_feature_streams_through_mock_data():
    """tfds.testing.mock_data (no download): random text proves the plumbing only."""
    import tensorflow_datasets as tfds

    from keras_curriculum import datasets

    with tfds.testing.mock_data(num_examples=20):
        source = datasets.load_source(
            "tfds_corpus", dataset="imdb_reviews", feature="text", min_count=1, sample=0,
            chunk_size=4, test_chunks=2,
        )  # fmt: skip
        x, y = next(iter(source.train.batch(2)))
    assert x["target"].shape == (2, 4) and x["negatives"].shape == (2, 4, 5)
    assert source.extras["vocabulary"][0] == "" and source.extras["vocabulary_size"] > 2
    with pytest.raises(ConfigError, match="data.feature"):
        with tfds.testing.mock_data(num_examples=2):
            datasets.load_source("tfds_corpus", dataset="imdb_reviews", feature="review")


# ---------------------------------------------------------------------------------------------
# The corpora's options: one signature, the architecture set once under model:


def test_every_corpus_takes_the_same_options_after_its_own():
    from keras_curriculum import datasets

    shared = [f.name for f in dataclasses.fields(corpus.CorpusOptions)] + ["seed"]
    own = {"wiki_sample": [], "lee": [], "text_corpus": ["path"],
           "tfds_corpus": ["dataset", "split", "feature"]}  # fmt: skip
    for name, parameters in own.items():
        assert list(datasets.get(name).parameters) == parameters + shared, name
    with pytest.raises(ConfigError, match=r"data\.window: expected at least 1"):
        datasets.metadata("lee", window=0)


def test_the_models_architecture_shapes_the_examples_and_the_description(tmp_path):
    from keras_curriculum import datasets

    path = _write_lines(tmp_path / "text.txt", [" ".join(chr(97 + i % 9) * 2 for i in range(40))])
    options = dict(path=str(path), min_count=1, window=2, sample=0, chunk_size=4, test_chunks=1,
                   validation_split=0, test_split=0)  # fmt: skip
    cbow = {"architecture": "cbow"}
    data = datasets.load("text_corpus", model_arguments=cbow, batch_size=1, **options)
    x, _ = next(iter(data.test))
    assert x["context"].shape == (1, 4, 4)  # CBOW: the whole 2·window context of each word
    described = datasets.metadata("text_corpus", model_arguments=cbow, path=str(path), min_count=1)
    assert described["architecture"] == "cbow" and data.info.extras["architecture"] == "cbow"
    assert described["vocabulary_size"] == data.info.extras["vocabulary_size"] == 10
    # The older place (configs of earlier runs) still works; a contradiction is an error.
    older = datasets.metadata("text_corpus", path=str(path), min_count=1, architecture="cbow")
    assert older["architecture"] == "cbow"
    with pytest.raises(ConfigError, match=r"data\.architecture: 'skipgram' contradicts model"):
        datasets.metadata("text_corpus", model_arguments=cbow, path=str(path),
                          architecture="skipgram")  # fmt: skip
