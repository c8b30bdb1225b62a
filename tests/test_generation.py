"""Character language models, seq2seq with attention, sampling and decoding, their data and the
``generate`` command."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from conftest import CONFIGS, load_yaml_config

from keras_curriculum import datasets, models
from keras_curriculum.datasets import characters, seq2seq_tasks, shakespeare
from keras_curriculum.errors import CurriculumError
from keras_curriculum.evaluation import generation
from keras_curriculum.training import load_config
from keras_curriculum.training.trainer import train

TINY_LM = [
    "data.max_train_characters=40000",
    "data.max_eval_characters=4000",
    "data.sequence_length=32",
    "data.batch_size=32",
    "training.epochs=3",
    "training.callbacks.early_stopping=null",
    "training.verbose=0",
]


# ---------------------------------------------------------------------------------------------
# The notes' models


@pytest.mark.parametrize(
    "config, total, recurrent",
    [
        ("notes/001_25_1_char_simple_rnn.yaml", 99_137, 82_432),
        ("notes/001_b10_char_gru.yaml", 48_909, 39_744),
    ],
)
def test_notes_character_models_have_exact_parameter_counts(config, total, recurrent):
    """data.vocabulary_size gives Shakespeare the notes' one-hot width, so the model built on
    the data (its description, as ``keras-curriculum summary`` builds it) has their count."""
    experiment = load_config(CONFIGS / config)
    metadata = datasets.metadata(experiment.data.name, **experiment.data.options)
    assert len(metadata["vocabulary"]) == experiment.data.options["vocabulary_size"]
    model = models.build(experiment.model.name, metadata=metadata, **experiment.model.arguments)
    assert model.count_params() == total
    assert model.get_layer(index=2).count_params() == recurrent  # input, one-hot, then the RNN


def test_a_fixed_vocabulary_keeps_the_most_frequent_characters_or_reserves_ids():
    text = "aaabbc"
    assert shakespeare.character_vocabulary(text) == ["<UNK>", "a", "b", "c"]
    assert shakespeare.character_vocabulary(text, 3) == ["<UNK>", "a", "b"]
    assert shakespeare.character_vocabulary(text, 6) == ["<UNK>", "a", "b", "c", "<UNUSED1>",
                                                         "<UNUSED2>"]  # fmt: skip
    assert shakespeare.encode("abcd", shakespeare.character_vocabulary(text, 3)).tolist() == [
        1, 2, 0, 0,
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Causality, sampling, bits per character


def tiny_transformer(norm="pre", tie_weights=True):
    return models.build(
        "char_transformer_lm",
        vocabulary=list("abcdefghij"),
        sequence_length=24,
        model_dim=16,
        num_blocks=2,
        num_heads=2,
        feed_forward_dim=32,
        dropout=0.0,
        norm=norm,
        tie_weights=tie_weights,
    )


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_changing_a_future_character_never_changes_an_earlier_prediction(norm):
    model = tiny_transformer(norm, tie_weights=norm == "pre")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, (3, 24))
    before = np.asarray(model(ids))
    for position in (5, 17):
        changed = ids.copy()
        changed[:, position:] = (changed[:, position:] + 3) % 10
        after = np.asarray(model(changed))
        np.testing.assert_allclose(after[:, :position], before[:, :position], atol=1e-6)
        assert np.abs(after[:, position:] - before[:, position:]).max() > 1e-4


def test_tied_weights_share_the_embedding():
    tied, untied = tiny_transformer(tie_weights=True), tiny_transformer(tie_weights=False)
    assert untied.count_params() - tied.count_params() == 16 * 10  # the projection matrix


def test_temperature_zero_is_argmax_and_a_seed_repeats_the_sample():
    model = tiny_transformer()
    prompt = [1, 2, 3]
    greedy, ids = [], list(prompt)
    for _ in range(10):
        ids.append(int(np.argmax(np.asarray(model(np.asarray([ids])))[0, -1])))
        greedy.append(ids[-1])
    assert list(generation.sample_ids(model, prompt, 10, temperature=0)) == greedy
    assert list(generation.sample_ids(model, prompt, 10, temperature=1e-4, seed=5)) == greedy
    first = list(generation.sample_ids(model, prompt, 30, temperature=1.5, seed=7))
    assert list(generation.sample_ids(model, prompt, 30, temperature=1.5, seed=7)) == first
    assert list(generation.sample_ids(model, prompt, 30, temperature=1.5, seed=8)) != first


def test_top_k_draws_only_the_k_likeliest():
    probabilities = np.array([0.05, 0.4, 0.1, 0.3, 0.15])
    rng = np.random.default_rng(0)
    draws = {generation.next_token(probabilities, rng, top_k=2) for _ in range(200)}
    assert draws == {1, 3}


def test_bits_per_character_is_mean_cross_entropy_over_ln2():
    model = tiny_transformer()
    model.compile(loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 10, (16, 24)), rng.integers(0, 10, (16, 24))
    nats = model.evaluate(x, y, verbose=0, batch_size=16)
    bits = generation.bits_per_character(np.asarray(model.predict(x, verbose=0)), y)
    assert bits == pytest.approx(generation.nats_to_bits(nats), rel=1e-4)
    assert generation.nats_to_bits(math.log(2)) == pytest.approx(1.0)


def test_a_prompt_with_unknown_characters_is_a_one_line_error():
    with pytest.raises(CurriculumError) as error:
        generation.encode_prompt("abz§", list("abc"))
    assert "'z'" in str(error.value) and "'§'" in str(error.value)
    assert "\n" not in str(error.value)
    with pytest.raises(CurriculumError):
        list(generation.sample_ids(tiny_transformer(), [], 3))


# ---------------------------------------------------------------------------------------------
# Attention


def tiny_seq2seq(attention):
    return models.build(
        "seq2seq_rnn", vocabulary_size=12, units=8, embedding_dim=4, attention=attention
    )


@pytest.mark.parametrize("attention", ["additive", "general", "dot"])
def test_attention_weights_sum_to_one_over_the_source_and_skip_padding(attention):
    model = tiny_seq2seq(attention)
    source = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 10, 11, 5, 6]])
    weights = model.alignment(source, np.array([[2, 4, 5], [2, 6, 7]]))
    assert weights.shape == (2, 3, 6)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert weights[0, :, 4:].max() == 0.0


def test_transformer_cross_attention_sums_to_one():
    model = models.build(
        "seq2seq_transformer",
        vocabulary_size=12,
        source_length=6,
        target_length=4,
        model_dim=8,
        num_heads=2,
        feed_forward_dim=16,
    )
    weights = model.alignment(np.array([[5, 6, 7, 0, 0, 0]]), np.array([[2, 4, 5]]))
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert weights[0, :, 3:].max() < 1e-6


@pytest.mark.parametrize("attention", ["additive", "general", "dot"])
def test_with_one_source_token_the_context_is_its_encoder_state(attention):
    model = tiny_seq2seq(attention)
    encoder_states = model.get_layer("encoder_gru").output[0]
    context = model.get_layer("alignment").output[0]
    probe = keras.Model(model.inputs, [encoder_states, context])
    states, contexts = (np.asarray(t) for t in probe([np.array([[7]]), np.array([[2, 5, 6]])]))
    for step in range(3):
        np.testing.assert_allclose(contexts[0, step], states[0, 0], atol=1e-6)


def test_a_bidirectional_encoder_state_sees_the_rest_of_the_source():
    model = models.build(
        "seq2seq_rnn", vocabulary_size=12, units=8, embedding_dim=4, attention="dot",
        bidirectional=True,
    )  # fmt: skip
    probe = keras.Model(model.inputs, model.get_layer("encoder_bidirectional_gru").output[0])
    first, changed = (
        np.asarray(probe([np.array([source]), np.array([[2, 5]])]))
        for source in ([5, 6, 7, 8], [5, 6, 7, 9])
    )
    assert first.shape == (1, 4, 8)  # units/2 each way, joined
    assert not np.allclose(first[0, 0], changed[0, 0])  # the first state knows the last token
    with pytest.raises(CurriculumError, match="model.units"):
        models.build("seq2seq_rnn", vocabulary_size=12, units=7, bidirectional=True)


def test_beam_search_of_width_one_is_greedy_and_beams_are_ranked():
    model = tiny_seq2seq("dot")
    source = np.array([[5, 6, 7, 8]])
    greedy = generation.greedy_decode(model, source, max_length=6)[0].tolist()
    (tokens, _score), *_ = generation.beam_search(model, source[0], beam_width=1, max_length=6)
    assert tokens == greedy[: len(tokens)]
    scores = [s for _, s in generation.beam_search(model, source[0], beam_width=3, max_length=6)]
    assert scores == sorted(scores, reverse=True)


# ---------------------------------------------------------------------------------------------
# Data


def test_gutenberg_header_and_footer_are_stripped():
    text = "header\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nplay\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence"
    assert shakespeare.strip_gutenberg(text) == "play\n"
    assert shakespeare.strip_gutenberg("only a play\n") == "only a play\n"


def test_no_held_out_play_is_in_the_training_text():
    works = shakespeare.read_works()
    texts = shakespeare.split_works(works, shakespeare.VALIDATION_PLAYS, shakespeare.TEST_PLAYS)
    held = set(shakespeare.VALIDATION_PLAYS) | set(shakespeare.TEST_PLAYS)
    assert texts["train"] == "\n".join(t for name, t in works.items() if name not in held)
    for play in shakespeare.TEST_PLAYS:
        assert works[play][:2000] not in texts["train"]
    source = datasets.load_source("shakespeare", sequence_length=50)
    vocabulary = source.extras["vocabulary"]
    inputs, targets = source.train
    decoded = "".join(vocabulary[i] for i in inputs.reshape(-1))
    assert decoded == texts["train"][: len(decoded)]  # the windows are the training text, in order
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    test_text = "".join(vocabulary[i] for i in source.test[0].reshape(-1))
    assert test_text.startswith(works[shakespeare.TEST_PLAYS[0]][:1000])


def test_a_text_file_holds_out_its_last_lines_whole(tmp_path):
    lines = [f"line {i:03d} " + "abcdefgh"[i % 8] * (i % 13) + "\n" for i in range(400)]
    (tmp_path / "book.txt").write_text("".join(lines), encoding="utf-8")
    texts = characters.split_lines("".join(lines), 0.1, 0.2)
    assert "".join(texts.values()) == "".join(lines)
    assert all(part.endswith("\n") for part in texts.values())  # cut between lines
    assert abs(len(texts["test"]) / len("".join(lines)) - 0.2) < 0.01
    source = datasets.load_source(
        "characters", path=str(tmp_path), sequence_length=20, validation_fraction=0.1,
        test_fraction=0.2,
    )  # fmt: skip
    vocabulary = source.extras["vocabulary"]
    test_text = "".join(vocabulary[i] for i in source.test[0].reshape(-1))
    assert texts["test"].startswith(test_text) and test_text not in texts["train"]
    assert datasets.metadata("characters", path=str(tmp_path))["num_classes"] == len(vocabulary)


@pytest.mark.parametrize(
    "options, field",
    [
        ({}, "data.corpus"),
        ({"corpus": "lee", "path": "x.txt"}, "data.corpus"),
        ({"corpus": "news"}, "data.corpus"),
        ({"path": "/nonexistent/book.txt"}, "data.path"),
        ({"corpus": "lee", "test_fraction": 1.5}, "data.test_fraction"),
        ({"corpus": "lee", "validation_fraction": 0.5, "test_fraction": 0.5}, "data.test_fraction"),
    ],
)
def test_character_text_options_are_checked(options, field):
    with pytest.raises(CurriculumError, match=field):
        datasets.load_source("characters", **options)


def test_consecutive_batches_continue_each_row():
    ids = np.arange(1000)
    inputs, targets = shakespeare.windows(ids, 10, consecutive_batch=4)
    assert len(inputs) % 4 == 0
    first, second = inputs[:4], inputs[4:8]
    np.testing.assert_array_equal(second[:, 0], first[:, -1] + 1)
    np.testing.assert_array_equal(targets, inputs + 1)


def test_the_loader_keeps_the_truncated_bptt_order(tmp_path):
    (tmp_path / "book.txt").write_text("".join(f"line {i:03d}\n" for i in range(400)))
    options = {"path": str(tmp_path), "sequence_length": 10, "consecutive_batch": 4}
    data = datasets.load("characters", batch_size=4, **options)
    (_, first), (second, _) = [(x.numpy(), y.numpy()) for x, y in data.train.take(2)]
    np.testing.assert_array_equal(second[:, 0], first[:, -1])  # no shuffling: rows continue
    with pytest.raises(CurriculumError, match="data.batch_size.*batches of 4"):
        datasets.load("characters", batch_size=8, **options)


def test_addition_holds_out_whole_operand_pairs():
    source = datasets.load_source(
        "seq2seq_addition", train_size=3000, validation_size=200, test_size=500
    )
    vocabulary = source.extras["vocabulary"]

    def pairs(split):
        found = set()
        for (src, _dec), tgt, _w in split.as_numpy_iterator():
            a, b = generation.ids_to_text(src, vocabulary).split("+")
            assert int(a) + int(b) == int(generation.ids_to_text(tgt, vocabulary))
            found.add((min(int(a), int(b)), max(int(a), int(b))))
        return found

    assert not pairs(source.train) & pairs(source.test)


def test_dates_are_unambiguous_and_test_years_unseen():
    source = datasets.load_source(
        "seq2seq_dates", train_size=3000, validation_size=100, test_size=500
    )
    vocabulary = source.extras["vocabulary"]

    def examples(split):
        return [
            (generation.ids_to_text(s, vocabulary), generation.ids_to_text(t, vocabulary))
            for (s, _d), t, _w in split.as_numpy_iterator()
        ]

    train, test = examples(source.train), examples(source.test)
    assert {int(t[:4]) for _, t in test} <= set(range(2022, 2027))
    assert not {int(t[:4]) for _, t in train} & {2017, 2018, 2019, 2022, 2023, 2024, 2025, 2026}
    meaning: dict[str, str] = {}
    for written, iso in train + test:
        assert meaning.setdefault(written, iso) == iso
    assert len(seq2seq_tasks.date_formats()) > 60


def test_held_out_date_years_are_cut_out_of_the_training_years():
    train, validation, test = seq2seq_tasks.year_splits((1950, 1959), (2020, 2029))
    assert [(a.year, b.year) for a, b in train] == [(1960, 2019), (2030, 2049)]
    assert (validation[0][0].isoformat(), test[0][1].isoformat()) == ("1950-01-01", "2029-12-31")
    for validation_years, test_years, field in [
        ((2020, 2025), (2024, 2029), "data.test_years"),
        ((1940, 1945), (2020, 2029), "data.validation_years"),
        ((2020, 2029), (2029, 2020), "data.test_years"),
        ((2017, 2019), 2022, "data.test_years"),
    ]:
        with pytest.raises(CurriculumError, match=field):
            seq2seq_tasks.year_splits(validation_years, test_years)


# ---------------------------------------------------------------------------------------------
# A few steps of each family through the trainer, and the generate command


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, overrides",
    [
        ("char_lstm_shakespeare.yaml", ["model.units=[64]", "model.embedding_dim=16"]),
        (
            "char_transformer_shakespeare.yaml",
            ["model.model_dim=32", "model.num_blocks=1", "model.feed_forward_dim=64"],
        ),
    ],
)
def test_character_models_learn_and_generate(config, overrides, output_dir, capsys):
    result = train(
        load_yaml_config(config, *TINY_LM, *overrides, "training.optimizer.learning_rate=0.01"),
        output_dir=output_dir,
    )
    losses = result.history["loss"]
    assert losses[-1] < losses[0]
    assert result.metrics["bits_per_character"] == pytest.approx(
        result.test["loss"] / math.log(2), rel=1e-3
    )
    assert (result.run_dir / "samples.txt").stat().st_size > 400

    from keras_curriculum.cli import main

    arguments = ["generate", str(result.run_dir), "--length", "40", "--temperature", "0.8"]
    with pytest.raises(SystemExit) as exit_status:
        main([*arguments, "--prompt", "The ", "--seed", "3"])
    assert exit_status.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("The ") and len(text) == len("The ") + 40 + 1
    with pytest.raises(SystemExit):
        main([*arguments, "--prompt", "The ", "--seed", "3"])
    assert capsys.readouterr().out == text
    with pytest.raises(SystemExit) as exit_status:
        main([*arguments, "--prompt", "The ☃"])
    assert exit_status.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error:") and "☃" in error and "\n" not in error


def test_truncated_bptt_trains_a_stateful_model(output_dir):
    config = load_yaml_config(
        "char_lstm_shakespeare.yaml",
        *TINY_LM,
        "training.epochs=1",
        "model.units=[16]",
        "model.embedding_dim=8",
        "model.stateful_batch=32",
        "data.consecutive_batch=32",
    )
    result = train(config, output_dir=output_dir)
    assert result.model.get_layer("recurrent1_lstm").stateful
    assert np.isfinite(result.test["loss"])  # both read the test text in order from a zero state
    assert result.metrics["bits_per_character"] == pytest.approx(
        result.test["loss"] / math.log(2), rel=1e-4
    )
    sampled = generation.sample_text(result.model.stateless(), "The", 5, seed=0)
    assert len(sampled) == 8


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, overrides",
    [
        ("seq2seq_reversal.yaml", ["model.units=32", "model.attention=dot"]),
        (
            "seq2seq_transformer_dates.yaml",
            [
                "data.name=seq2seq_reversal",
                "data.length=6",
                "model.model_dim=32",
                "model.num_blocks=1",
                "model.feed_forward_dim=64",
                "training.optimizer.learning_rate=0.003",
            ],
        ),
    ],
)
def test_seq2seq_models_learn(config, overrides, output_dir):
    result = train(
        load_yaml_config(
            config,
            "data.length=6",
            "data.train_size=2000",
            "data.validation_size=100",
            "data.test_size=200",
            "data.batch_size=64",
            "training.epochs=3",
            "training.verbose=0",
            *overrides,
        ),
        output_dir=output_dir,
    )
    losses = result.history["loss"]
    assert losses[-1] < losses[0]
    assert 0.0 <= result.metrics["exact_match"] <= 1.0
    assert (result.run_dir / "examples.txt").exists()
    assert (result.run_dir / "plots" / "attention.png").exists()
