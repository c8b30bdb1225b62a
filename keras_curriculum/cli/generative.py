"""``keras-curriculum sample RUN_DIR [--n 64] [--label K] [--seed S] [-o PATH]``.

Draws a grid of new images from a finished generator run (a GAN or a VAE): ``--n`` images
from noise fixed by ``--seed``, all of class ``--label`` for a conditional GAN (one class per
row otherwise). Writes ``RUN_DIR/samples/sample.png`` unless ``-o`` names another file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_curriculum.errors import CurriculumError


def _sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir")
    parser.add_argument("--n", type=int, default=64, help="how many images (default 64)")
    parser.add_argument("--label", type=int, help="the class to draw (conditional models)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("-o", "--output", help="the PNG to write")


def sample(args: argparse.Namespace) -> int:
    from keras_curriculum import models
    from keras_curriculum.reports.generative import write_grid
    from keras_curriculum.training import rundir

    run_dir = rundir.check_run(Path(args.run_dir))
    if not (run_dir / "model.keras").exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    if args.n < 1:
        raise CurriculumError(f"--n: expected a positive number of images, got {args.n}")
    model = models.load(run_dir / "model.keras")
    if not callable(getattr(model, "sample", None)):
        raise CurriculumError(f"{run_dir}: the model '{model.name}' does not generate images")
    classes = getattr(model, "num_classes", None)
    if args.label is not None:
        if not classes:
            raise CurriculumError(f"--label: '{model.name}' is not a conditional model")
        if not 0 <= args.label < classes:
            raise CurriculumError(f"--label: expected a class in 0…{classes - 1}, got {args.label}")
    path = Path(args.output) if args.output else run_dir / "samples" / "sample.png"
    write_grid(model, path, n=args.n, seed=args.seed, label=args.label)
    print(path)
    return 0


# (name, help, add_arguments(parser), handler(args) -> exit status)
COMMANDS = [
    ("sample", "a grid of new images from a generator run (GAN, VAE)", _sample_arguments, sample),
]
