"""``keras-curriculum predict RUN_DIR "a gorgeous, witty film"``: classify raw sentences with a
finished text run.

The run's ``model.keras`` holds its ``TextVectorization`` layer (vocabulary included), so it
takes the sentences as they are; the class names come from the run's dataset.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_curriculum.errors import CurriculumError


def predict_texts(
    model, texts: Sequence[str], class_names: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """(label, probability of that label) for each sentence. A single sigmoid output is
    p(class 1); a softmax output gives one probability per class."""
    probabilities = np.asarray(model.predict(np.array(list(texts), dtype=object), verbose=0))
    if probabilities.shape[-1] == 1:  # sigmoid: p(class 1)
        p1 = probabilities[:, 0]
        probabilities = np.stack([1 - p1, p1], axis=-1)
    names = list(class_names) if class_names else [str(i) for i in range(probabilities.shape[-1])]
    best = probabilities.argmax(axis=-1)
    return [(names[k], float(p[k])) for k, p in zip(best, probabilities, strict=True)]


def load_text_model(run_dir: Path):
    """The run's model.keras, checked to take raw strings."""

    from keras_curriculum.training import load_model, rundir

    run_dir = rundir.check_run(run_dir)
    path = run_dir / "model.keras"
    if not path.exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    model = load_model(path)
    if model.inputs[0].dtype != "string":
        raise CurriculumError(
            f"{run_dir}: the model takes {model.inputs[0].dtype} inputs, not text"
        )
    return model


def run_class_names(run_dir: Path) -> list[str] | None:
    """The class names of the run's dataset (None when the dataset cannot be loaded here)."""
    from keras_curriculum import datasets
    from keras_curriculum.training import load_config

    try:
        config = load_config(run_dir / "config.yaml", check_arguments=False)
        source = datasets.load_source(config.data.name, seed=config.seed, **config.data.options)
    except (CurriculumError, OSError):
        return None
    return source.class_names


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a finished run of a text model")
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="sentences to classify")


def predict(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    model = load_text_model(run_dir)
    for text, (label, probability) in zip(
        args.texts, predict_texts(model, args.texts, run_class_names(run_dir)), strict=True
    ):
        print(f"{label}\t{probability:.4f}\t{text}")
    return 0


# (name, help, add_arguments(parser), handler(args) -> exit status)
COMMANDS = [
    ("predict", "classify sentences with a finished text run", _configure, predict),
]
