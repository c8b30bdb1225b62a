"""``keras-curriculum explain RUN_DIR --image PATH | --index N [--method cam|gradcam] [--layer NAME]``.

Writes ``RUN_DIR/explanations/<method>_<name>.png``: the image and its CAM or Grad-CAM map
(for the predicted class) overlaid, from the run's ``model.keras``. ``--index N`` takes the
N-th image of the run's test split; ``--image`` reads a picture file, resized to the model's
input size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from keras_curriculum.errors import CurriculumError


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", help="a picture file (PNG, JPEG, …)")
    source.add_argument("--index", type=int, help="the N-th image of the run's test split")
    parser.add_argument("--method", choices=("cam", "gradcam"), default="gradcam")
    parser.add_argument("--layer", help="Grad-CAM's conv layer (default: the last one)")


def read_image(path: str, input_shape: tuple[int, ...]) -> np.ndarray:
    import keras

    if not Path(path).is_file():
        raise CurriculumError(f"--image {path}: no such file")
    height, width, channels = input_shape
    try:
        image = keras.utils.load_img(
            path, color_mode="grayscale" if channels == 1 else "rgb", target_size=(height, width)
        )
    except Exception as error:  # PIL's errors differ by format; name the file
        raise CurriculumError(f"--image {path}: cannot read it as an image ({error})") from None
    return keras.utils.img_to_array(image)[None] / 255.0


def test_image(run_dir: Path, index: int) -> tuple[np.ndarray, int]:
    from keras_curriculum.training import load_config, trainer

    data = trainer.load_data(load_config(run_dir / "config.yaml"))
    if data.test is None:
        raise CurriculumError(f"{run_dir}: the run's dataset has no test split")
    count = data.info.num_examples.get("test")
    if index < 0 or (count is not None and index >= count):
        raise CurriculumError(f"--index {index}: the test split has {count} images")
    x, y = next(iter(data.test.unbatch().skip(index).batch(1)))
    return np.asarray(x), int(np.asarray(y).reshape(-1)[0])


def explain_command(args: argparse.Namespace) -> int:
    from keras_curriculum import models
    from keras_curriculum.evaluation.explain import explain, is_image_classifier
    from keras_curriculum.reports.explain import overlay_grid
    from keras_curriculum.training import rundir

    run_dir = rundir.check_run(Path(args.run_dir))
    if not (run_dir / "model.keras").exists():
        raise CurriculumError(f"{run_dir} has no model.keras (the run did not finish)")
    model = models.load(run_dir / "model.keras")
    if not is_image_classifier(model):
        raise CurriculumError(f"{run_dir}: {model.name} is not a convolutional image classifier")
    if args.image is not None:
        image, truth, name = (
            read_image(args.image, tuple(model.inputs[0].shape[1:])),
            None,
            Path(args.image).stem,
        )
    else:
        (image, truth), name = test_image(run_dir, args.index), f"test{args.index}"
    maps, classes = explain(model, image, args.method, layer_name=args.layer)
    title = f"{args.method}: class {int(classes[0])}" + (
        "" if truth is None else f" (true {truth})"
    )
    path = overlay_grid(
        image, maps, [title], run_dir / "explanations" / f"{args.method}_{name}.png"
    )
    print(path)
    return 0


# (name, help, add_arguments(parser), handler(args) -> exit status)
COMMANDS = [
    (
        "explain",
        "CAM / Grad-CAM overlay of an image for a classifier run",
        _arguments,
        explain_command,
    ),
]
