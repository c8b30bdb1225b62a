"""Localization and detection against ground truth, each beside its baseline (notes 002 §5–6).

    nice -n 10 python benchmarks/detection_results.py                      # every part
    nice -n 10 python benchmarks/detection_results.py --parts pointing detection \\
        --set training.epochs=3 --set data.train_size=1000

Parts (each trains its config with the shared trainer, then scores the test split):

* ``pointing``: CAM and Grad-CAM of ``cam_cnn_fashion_canvases`` on one-object canvases — the
  pointing game (the map's maximum inside the true box), beside the centre-of-image prior.
* ``localization``: ``localizer_digit_canvases`` (or ``--localizer CONFIG``) — test accuracy
  and mean IoU.
* ``detection``: ``detector_fashion_canvases`` (or ``--detector CONFIG``) — COCO mAP@0.5 and mAP@[.5:.95] (pycocotools)
  and milliseconds per image, beside a sliding-window classifier (a CNN trained on object
  crops and background windows of the same training canvases, run over every window).
* ``nuclei``: ``detector_nuclei`` on the held-out nucleus tiles — mAP@0.5 beside scikit-image's
  Laplacian-of-Gaussian blob detector (a box of side 2√2·σ around each blob); ``nuclei_log``
  runs the blob detector alone.

``--set`` overrides apply to every config (quick runs). Figures go to stdout as a table and,
with ``--json``, to a file. Times are this machine's CPU wall time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from keras_curriculum.evaluation.detection import coco_scores
from keras_curriculum.evaluation.explain import explain, pointing_hits
from keras_curriculum.reports.detection import test_arrays
from keras_curriculum.training import load_config, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PARTS = ("pointing", "localization", "detection", "nuclei", "nuclei_log")


def run(name: str, overrides: list[str], output_dir: Path):
    config = load_config(CONFIGS / f"{name}.yaml", ["training.verbose=2", *overrides])
    started = time.perf_counter()
    result = train(config, output_dir=output_dir)
    return result, time.perf_counter() - started


def pointing(overrides, output_dir) -> dict:
    from keras_curriculum import datasets

    result, wall = run("cam_cnn_fashion_canvases", overrides, output_dir)
    config = result.config
    options = {**config.data.options, "task": "localization"}
    source = datasets.load_source(config.data.name, seed=config.seed, **options)
    images, targets = source.test
    boxes = targets["box"]
    figures = {"test_accuracy": result.test.get("accuracy"), "images": len(images)}
    for method in ("cam", "gradcam"):
        hits = []
        for start in range(0, len(images), 256):
            maps, _ = explain(
                result.model,
                images[start : start + 256],
                method,
                classes=targets["class"][start : start + 256],  # the true class's map
            )
            hits.append(pointing_hits(maps, boxes[start : start + 256]))
        figures[f"{method}_pointing"] = float(np.concatenate(hits).mean())
    centre = np.full((len(images), *images.shape[1:3]), 0.0)
    centre[:, images.shape[1] // 2, images.shape[2] // 2] = 1.0
    figures["centre_prior_pointing"] = float(pointing_hits(centre, boxes).mean())
    figures["wall_seconds"] = round(wall, 1)
    return figures


def localization(overrides, output_dir, config: str) -> dict:
    result, wall = run(config, overrides, output_dir)
    return {
        "config": config,
        "test_accuracy": result.test["accuracy"],
        "test_mean_iou": result.test["mean_iou"],
        "epochs": result.metrics["epochs"],
        "wall_seconds": round(wall, 1),
    }


def window_training_set(images, targets, window: int, rng, negatives_per_image: int = 4):
    """Crops of every true box (made square, resized to ``window``) labelled by class, and
    random square windows overlapping no box by more than IoU 0.2 labelled background."""
    import keras
    from keras.utils import bounding_boxes

    crops, labels = [], []
    height, width = images.shape[1:3]
    background = int(targets["labels"].max()) + 1
    for image, boxes, kinds in zip(images, targets["boxes"], targets["labels"], strict=True):
        real = boxes[kinds >= 0] * np.array([width, height, width, height])
        for (x0, y0, x1, y1), kind in zip(real, kinds[kinds >= 0], strict=True):
            side = max(x1 - x0, y1 - y0)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            left = int(np.clip(round(cx - side / 2), 0, width - side))
            top = int(np.clip(round(cy - side / 2), 0, height - side))
            side = int(round(side))
            crops.append(
                keras.ops.image.resize(
                    image[top : top + side, left : left + side], (window, window)
                )
            )
            labels.append(int(kind))
        for _ in range(negatives_per_image):
            side = int(rng.integers(24, 56))
            left, top = (int(v) for v in rng.integers(0, width - side + 1, 2))
            candidate = np.array([[left, top, left + side, top + side]], np.float32)
            if len(real):
                overlap = np.asarray(
                    bounding_boxes.compute_iou(candidate, real.astype(np.float32), "xyxy")
                )
                if overlap.max() > 0.2:
                    continue
            crops.append(
                keras.ops.image.resize(
                    image[top : top + side, left : left + side], (window, window)
                )
            )
            labels.append(background)
    return np.stack([np.asarray(c) for c in crops]).astype(np.float32), np.array(labels)


def sliding_window_baseline(
    data_config, seed: int, test_images, test_targets, num_classes, epochs: int
) -> dict:
    from keras_curriculum import datasets, models
    from keras_curriculum.models.detector import sliding_window_detect

    source = datasets.load_source(data_config.name, seed=seed, **data_config.options)
    images, targets = source.train
    x, y = window_training_set(images, targets, 28, np.random.default_rng(seed))
    classifier = models.build(
        "cnn",
        input_shape=(28, 28, 1),
        num_classes=num_classes + 1,
        conv_blocks=[{"filters": 32, "pool": "max"}, {"filters": 64, "pool": "max"}],
        dense_units=[128],
    )
    classifier.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    started = time.perf_counter()
    classifier.fit(x, y, epochs=epochs, batch_size=128, verbose=2, validation_split=0.1)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    found = sliding_window_detect(classifier, test_images, window_sizes=(28, 36, 44), stride=6)
    seconds = time.perf_counter() - started
    scores = coco_scores(
        test_targets["boxes"], test_targets["labels"], found["boxes"], found["scores"], found["labels"],
        image_size=test_images.shape[1:3], num_classes=num_classes,
    )  # fmt: skip
    return {
        **{k: round(v, 4) for k, v in scores.as_dict().items()},
        "milliseconds_per_image": round(1000 * seconds / len(test_images), 1),
        "windows_per_image": sum(((96 - s) // 6 + 1) ** 2 for s in (28, 36, 44)),
        "train_seconds": round(train_seconds, 1),
    }


def detection(
    overrides, output_dir, baseline_images: int, baseline_epochs: int, config: str
) -> dict:
    result, wall = run(config, overrides, output_dir)
    figures = {
        "config": config,
        "detector": {**result.metrics["detection"], "wall_seconds": round(wall, 1)},
    }
    images, targets = test_arrays(result.data)
    images, targets = images[:baseline_images], {k: v[:baseline_images] for k, v in targets.items()}
    found = result.model.detect(images)
    subset = coco_scores(
        targets["boxes"], targets["labels"], found["boxes"], found["scores"], found["labels"],
        image_size=images.shape[1:3], num_classes=result.data.info.num_classes,
    )  # fmt: skip
    figures["detector_on_baseline_images"] = {k: round(v, 4) for k, v in subset.as_dict().items()}
    figures["sliding_window"] = sliding_window_baseline(
        result.config.data, result.config.seed, images, targets,
        result.data.info.num_classes, baseline_epochs,
    )  # fmt: skip
    figures["baseline_images"] = len(images)
    return figures


def log_blobs(images: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    """scikit-image's Laplacian-of-Gaussian blobs as boxes of side 2√2·σ, scored by the
    LoG response's scale-normalised image value at the centre."""
    from skimage.feature import blob_log

    count = len(images)
    height, width = images.shape[1:3]
    most = 200
    boxes = np.full((count, most, 4), -1.0, np.float32)
    scores = np.full((count, most), -1.0, np.float32)
    labels = np.full((count, most), -1, np.int64)
    for index, image in enumerate(images):
        blobs = blob_log(
            image[..., 0], min_sigma=2, max_sigma=10, num_sigma=9, threshold=threshold
        )[:most]
        for row, (y, x, sigma) in enumerate(blobs):
            radius = np.sqrt(2) * sigma
            boxes[index, row] = np.clip(
                [(x - radius) / width, (y - radius) / height, (x + radius + 1) / width, (y + radius + 1) / height],
                0, 1,
            )  # fmt: skip
            scores[index, row] = image[int(y), int(x), 0]
            labels[index, row] = 0
    return {"boxes": boxes, "scores": scores, "labels": labels}


def log_baseline(images: np.ndarray, targets: dict[str, np.ndarray]) -> dict:
    """mAP of the LoG blob detector at a few thresholds on the given tiles."""
    figures = {}
    for threshold in (0.05, 0.1, 0.2):
        started = time.perf_counter()
        found = log_blobs(images, threshold)
        seconds = time.perf_counter() - started
        scores = coco_scores(
            targets["boxes"], targets["labels"], found["boxes"], found["scores"], found["labels"],
            image_size=images.shape[1:3], num_classes=1,
        )  # fmt: skip
        figures[f"log_threshold_{threshold}"] = {
            **{k: round(v, 4) for k, v in scores.as_dict().items()},
            "milliseconds_per_image": round(1000 * seconds / len(images), 1),
        }
    figures["test_tiles"] = len(images)
    return figures


def nuclei(overrides, output_dir) -> dict:
    result, wall = run("detector_nuclei", overrides, output_dir)
    images, targets = test_arrays(result.data)
    return {
        "detector": {**result.metrics["detection"], "wall_seconds": round(wall, 1)},
        **log_baseline(images, targets),
    }


def nuclei_log(overrides, output_dir) -> dict:
    """The LoG baseline alone on the held-out tiles of ``detector_nuclei`` (no training)."""
    from keras_curriculum.training.trainer import load_data

    data = load_data(load_config(CONFIGS / "detector_nuclei.yaml", overrides))
    return log_baseline(*test_arrays(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS[:4]))
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--localizer", default="localizer_digit_canvases", help="its config")
    parser.add_argument("--detector", default="detector_fashion_canvases", help="its config")
    parser.add_argument("--baseline-images", type=int, default=100)
    parser.add_argument("--baseline-epochs", type=int, default=5)
    parser.add_argument("--output-dir", help="where the runs go (default: a temporary folder)")
    parser.add_argument("--json", help="write the figures to this file as well")
    args = parser.parse_args()
    output_dir = Path(args.output_dir or tempfile.mkdtemp(prefix="detection-benchmark-"))
    figures: dict = {"overrides": args.overrides}
    for part in args.parts:
        if part == "detection":
            figures[part] = detection(
                args.overrides, output_dir, args.baseline_images, args.baseline_epochs,
                args.detector,
            )  # fmt: skip
        elif part == "localization":
            figures[part] = localization(args.overrides, output_dir, args.localizer)
        else:
            figures[part] = globals()[part](args.overrides, output_dir)
        print(json.dumps({part: figures[part]}, indent=1), flush=True)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
