"""``keras-curriculum generate RUN_DIR --prompt TEXT --length N --temperature T [--top-k K]
[--seed S]``: sample text from a finished character language model run, streaming each
character as it is drawn.

A prompt character the model never saw in training is a one-line error (exit 2) naming it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keras_curriculum.errors import CurriculumError


def load_language_model(run_dir: Path):
    """The run's model.keras, checked to be a character language model (it has a vocabulary)."""
    from keras_curriculum import models
    from keras_curriculum.training import rundir

    run_dir = rundir.check_run(run_dir)
    path = run_dir / "model.keras"
    if not path.exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    model = models.load(path)
    if getattr(model, "vocabulary", None) is None or not hasattr(model, "stateless"):
        raise CurriculumError(f"{run_dir}: '{model.name}' is not a character language model")
    return model.stateless()


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a finished run of char_rnn_lm or char_transformer_lm")
    parser.add_argument("--prompt", required=True, help="text to continue")
    parser.add_argument("--length", type=int, default=300, help="characters to sample")
    parser.add_argument("--temperature", type=float, default=1.0, help="0 = argmax")
    parser.add_argument("--top-k", type=int, default=None, help="draw from the k likeliest")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same text")


def generate(args: argparse.Namespace) -> int:
    from keras_curriculum.evaluation.generation import encode_prompt, sample_ids

    if args.length < 0:
        raise CurriculumError(f"--length must be ≥ 0, got {args.length}")
    model = load_language_model(Path(args.run_dir))
    prompt_ids = encode_prompt(args.prompt, model.vocabulary)
    sys.stdout.write(args.prompt)
    sys.stdout.flush()
    for token in sample_ids(
        model,
        prompt_ids,
        args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        seed=args.seed,
    ):
        sys.stdout.write(model.vocabulary[token])
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


# (name, help, add_arguments(parser), handler(args) -> exit status)
COMMANDS = [
    ("generate", "sample text from a character language model run", _configure, generate),
]
