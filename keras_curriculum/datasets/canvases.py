"""Object canvases (SYNTHETIC layouts of real images) and nucleus boxes: data with true boxes.

Localization and detection (notes 002 §5–6) need to know *where* each object is. Two sources
give exact boxes without hand labelling:

* ``object_canvases`` — SYNTHETIC canvases of REAL items: Fashion-MNIST garments or MNIST
  digits (``mnist_5k``), rescaled to a random size and pasted at a random place on a larger
  black canvas (96×96 by default), with clutter — small crops of other items — scattered
  outside the objects' boxes. Each object's box is the tight box of its own pixels, so it is
  exact by construction. ``task: classification`` labels each one-object canvas by its class
  (for CAM / Grad-CAM and the pointing game), ``localization`` adds the box, ``detection``
  places 1 … ``max_objects`` objects whose boxes never overlap. Training canvases use the
  source's training items, test canvases its test items.
* ``nuclei_boxes`` — the real fluorescence image of ``nuclei``: its instance mask gives one
  box per nucleus (the tight box of that nucleus' pixels inside the crop). Crops follow the
  ``nuclei`` split (training crops left of ``split_column``, held-out test tiles right of it).

Boxes are ``rel_xyxy`` (keras.utils.bounding_boxes' name): ``(x_min, y_min, x_max, y_max)``
as fractions of the image, with pixel *edges* as coordinates, so a box covering columns
``c0 … c1`` has ``x_min = c0 / W`` and ``x_max = (c1 + 1) / W``. Targets are dicts:
``{"class", "box"}`` for localization, ``{"boxes", "labels"}`` padded to ``max_objects``
with −1 (KerasHub's convention) for detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from keras_curriculum.datasets import fashion_mnist, mnist_5k, nuclei
from keras_curriculum.datasets.source import Description, Source, register_metadata
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

Task = Literal["classification", "localization", "detection"]
ItemSource = Literal["fashion_mnist", "mnist_5k"]
INK = 0.1  # a rescaled item's pixels below this are set to 0: the object is what is left


@dataclass
class Canvases:
    """Generated canvases: images ``(N, S, S, 1)`` in [0, 1]; per canvas, its objects' pixel
    boxes ``(x0, y0, x1, y1)`` (edges, x1/y1 exclusive), labels, and the instance map
    (0 = no object, k = the k-th object's pixels; clutter is 0)."""

    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    instances: np.ndarray


def rescale(item: np.ndarray, size: int) -> np.ndarray:
    """A 28×28 uint8 item as a ``size``×``size`` float image in [0, 1], faint pixels zeroed."""
    from scipy.ndimage import zoom

    scaled = item.astype(np.float32) / 255.0
    if size != item.shape[0]:
        scaled = np.clip(zoom(scaled, size / item.shape[0], order=1), 0, 1)
    return np.where(scaled >= INK, scaled, 0.0).astype(np.float32)


def tight_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the True pixels of a 2-D mask (x1, y1 exclusive)."""
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def compose(
    items: np.ndarray,
    labels: np.ndarray,
    count: int,
    rng: np.random.Generator,
    *,
    canvas_size: int = 96,
    min_objects: int = 1,
    max_objects: int = 1,
    object_sizes: tuple[int, int] = (28, 48),
    clutter: int = 4,
    clutter_size: tuple[int, int] = (6, 12),
) -> Canvases:
    """``count`` canvases of ``min_objects`` … ``max_objects`` non-overlapping items each."""
    from scipy.ndimage import binary_dilation

    size = canvas_size
    images = np.zeros((count, size, size, 1), np.float32)
    instances = np.zeros((count, size, size), np.uint8)
    all_boxes, all_labels = [], []
    for index in range(count):
        image = images[index, :, :, 0]
        occupied = np.zeros((size, size), bool)
        boxes, kinds = [], []
        wanted = int(rng.integers(min_objects, max_objects + 1))
        for _attempt in range(50 * wanted):
            if len(boxes) == wanted:
                break
            item = int(rng.integers(len(items)))
            side = int(rng.integers(object_sizes[0], object_sizes[1] + 1))
            top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
            patch = rescale(items[item], side)
            if not patch.any():
                continue
            x0, y0, x1, y1 = tight_box(patch > 0)
            box = (left + x0, top + y0, left + x1, top + y1)
            # Boxes never touch (one pixel of gap), so no pixel is in two boxes.
            if occupied[max(box[1] - 1, 0) : box[3] + 1, max(box[0] - 1, 0) : box[2] + 1].any():
                continue
            region = (slice(top, top + side), slice(left, left + side))
            image[region] = np.maximum(image[region], patch)
            instances[index][region][patch > 0] = len(boxes) + 1
            occupied[box[1] : box[3], box[0] : box[2]] = True
            boxes.append(box)
            kinds.append(int(labels[item]))
        if len(boxes) < min_objects:
            raise ConfigError(
                "data.max_objects",
                f"could not place {wanted} separate objects on a {size}×{size} canvas"
                " (use a larger canvas_size or fewer/smaller objects)",
            )
        # Clutter: crops of random items, drawn only where no object's box (grown by a pixel)
        # is, so every object's pixels stay exactly inside its box and nothing else does.
        free = ~binary_dilation(occupied, np.ones((3, 3), bool))
        for _ in range(clutter):
            side = int(rng.integers(clutter_size[0], clutter_size[1] + 1))
            source = rescale(items[int(rng.integers(len(items)))], 28)
            r, c = (int(v) for v in rng.integers(0, 28 - side + 1, 2))
            top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
            region = (slice(top, top + side), slice(left, left + side))
            piece = np.where(free[region], source[r : r + side, c : c + side], 0.0)
            image[region] = np.maximum(image[region], piece)
        all_boxes.append(np.array(boxes, np.float32).reshape(-1, 4))
        all_labels.append(np.array(kinds, np.int64))
    return Canvases(images, all_boxes, all_labels, instances)


def padded_targets(
    boxes: list[np.ndarray], labels: list[np.ndarray], max_objects: int, size: tuple[int, int]
) -> dict[str, np.ndarray]:
    """Detection targets: ``boxes`` ``(N, max_objects, 4)`` rel_xyxy and ``labels``
    ``(N, max_objects)``, padded with −1."""
    height, width = size
    out_boxes = np.full((len(boxes), max_objects, 4), -1.0, np.float32)
    out_labels = np.full((len(boxes), max_objects), -1, np.int64)
    for index, (box, label) in enumerate(zip(boxes, labels, strict=True)):
        n = len(box)
        out_boxes[index, :n] = box / np.array([width, height, width, height], np.float32)
        out_labels[index, :n] = label
    return {"boxes": out_boxes, "labels": out_labels}


def targets(canvases: Canvases, task: Task, max_objects: int):
    size = canvases.images.shape[1:3]
    if task == "classification":
        return np.array([label[0] for label in canvases.labels], np.int64)
    if task == "localization":
        return {
            "class": np.array([label[0] for label in canvases.labels], np.int64),
            "box": np.stack([box[0] for box in canvases.boxes]) / size[0],
        }
    return padded_targets(canvases.boxes, canvases.labels, max_objects, size)


def item_arrays(source: ItemSource):
    """``(train_items, train_labels), (test_items, test_labels)``, uint8 28×28 images."""
    if source == "fashion_mnist":
        return fashion_mnist.load_arrays(), class_names_of(source)
    from sklearn.model_selection import train_test_split

    images, labels = mnist_5k.read_arrays()
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=1000, random_state=0, stratify=labels
    )
    return ((x_train, y_train), (x_test, y_test)), class_names_of(source)


def class_names_of(source: ItemSource) -> list[str]:
    return fashion_mnist.CLASS_NAMES if source == "fashion_mnist" else [str(d) for d in range(10)]


@register_metadata("object_canvases")
def object_canvases_metadata(
    *, source: ItemSource, task: Task, canvas_size: int, max_objects: int
) -> Description:
    names = class_names_of(source)
    return Description(
        input_shape=(canvas_size, canvas_size, 1),
        num_classes=len(names),
        class_names=names,
        task=task,
        extras={
            "input_shape_field": "data.canvas_size",
            "max_objects": max_objects if task == "detection" else 1,
        },
    )


@register_dataset("object_canvases")
def object_canvases(
    *,
    source: ItemSource = "fashion_mnist",
    task: Task = "localization",
    train_size: int = 4000,
    validation_size: int = 500,
    test_size: int = 1000,
    canvas_size: int = 96,
    max_objects: int = 4,
    object_sizes: tuple[int, int] = (28, 48),
    clutter: int = 4,
    seed: int = 0,
) -> Source:
    """SYNTHETIC canvases of real Fashion-MNIST / MNIST items with exact boxes.

    One object per canvas for ``classification`` / ``localization``, 1 … ``max_objects`` for
    ``detection``; ``clutter`` crops of other items per canvas. Validation and training canvases
    use the source's training items, test canvases its test items.

    Args:
        source: Where the items come from: ``fashion_mnist`` or ``mnist_5k``.
        task: ``classification`` (class label), ``localization`` (class and box) or
            ``detection`` (boxes and labels, 1 … ``max_objects`` objects per canvas).
        train_size: Training canvases.
        validation_size: Validation canvases (from the training items).
        test_size: Test canvases (from the test items).
        canvas_size: Side of the square canvas in pixels.
        max_objects: Most objects per detection canvas (the targets' padded length).
        object_sizes: ``[min, max]`` side in pixels an item is rescaled to.
        clutter: Crops of other items scattered outside the objects' boxes, per canvas.
        seed: Seeds the layouts (each split its own stream).
    """
    if source not in ("fashion_mnist", "mnist_5k"):
        raise ConfigError("data.source", f"expected fashion_mnist or mnist_5k, got {source!r}")
    if task not in ("classification", "localization", "detection"):
        raise ConfigError(
            "data.task", f"expected classification, localization or detection, got {task!r}"
        )
    if validation_size < 1 or test_size < 1 or train_size < 1:
        raise ConfigError("data", "train_size, validation_size and test_size must be positive")
    low, high = object_sizes
    if not 8 <= low <= high <= canvas_size:
        raise ConfigError(
            "data.object_sizes", f"expected 8 ≤ min ≤ max ≤ canvas_size, got {object_sizes}"
        )
    ((x_train, y_train), (x_test, y_test)), class_names = item_arrays(source)
    several = task == "detection"
    options = dict(
        canvas_size=canvas_size,
        max_objects=max_objects if several else 1,
        object_sizes=(low, high),
        clutter=clutter,
    )
    streams = [np.random.default_rng([seed, stream]) for stream in range(3)]
    splits = {}
    for (name, size, items, labels), rng in zip(
        (
            ("train", train_size, x_train, y_train),
            ("validation", validation_size, x_train, y_train),
            ("test", test_size, x_test, y_test),
        ),
        streams,
        strict=True,
    ):
        canvases = compose(items, labels, size, rng, **options)
        splits[name] = (canvases.images, targets(canvases, task, options["max_objects"]))
    return Source(
        train=splits["train"],
        validation=splits["validation"] if validation_size else None,
        test=splits["test"],
        input_shape=(canvas_size, canvas_size, 1),
        num_classes=len(class_names),
        class_names=class_names,
        task=task,
        extras={"input_shape_field": "data.canvas_size", "max_objects": options["max_objects"]},
    )


def instance_boxes(instances: np.ndarray) -> np.ndarray:
    """One pixel box ``(x0, y0, x1, y1)`` per instance id > 0 in a 2-D instance map."""
    ids = [i for i in np.unique(instances) if i > 0]
    return np.array([tight_box(instances == i) for i in ids], np.float32).reshape(-1, 4)


@register_metadata("nuclei_boxes")
def nuclei_boxes_metadata(*, crop_size: int = 128, max_objects: int = 64) -> Description:
    return Description(
        input_shape=(crop_size, crop_size, 1),
        num_classes=1,
        class_names=["nucleus"],
        task="detection",
        extras={"input_shape_field": "data.crop_size", "max_objects": max_objects},
    )


@register_dataset("nuclei_boxes")
def nuclei_boxes(
    *,
    crop_size: int = 128,
    split_column: int = 320,
    validation_rows: int = 128,
    train_crops: int = 512,
    max_objects: int = 64,
    augment: bool = True,
    seed: int = 0,
) -> Source:
    """Real fluorescence nuclei: one box per nucleus (from the instance mask) in each crop.

    The splits and crops are those of ``nuclei`` (train crops left of ``split_column``, rotated
    and flipped when ``augment``; held-out test tiles right of it). Each box is the tight box
    of that nucleus' pixels inside the crop; one class, ``nucleus``.

    Args:
        crop_size: Side of the square crops in pixels.
        split_column: Columns left of it are for training and validation, right of it for
            testing.
        validation_rows: The bottom rows of the left part held out for validation.
        train_crops: Random training crops.
        max_objects: The targets' padded length (an error names it when a crop has more).
        augment: Rotate training crops by a multiple of 90° and flip them at random.
        seed: Seeds the training crops and their rotations and flips.
    """
    image, instances = nuclei.load_image_and_mask()
    bounds = nuclei.regions(
        image.shape, crop_size=crop_size, split_column=split_column, validation_rows=validation_rows
    )
    top, left, bottom, right = bounds["train"]
    image = nuclei.normalize(image, image[top:bottom, left:right])
    rng = np.random.default_rng(seed)
    origins = {
        "train": np.stack(
            [
                rng.integers(top, bottom - crop_size + 1, train_crops),
                rng.integers(left, right - crop_size + 1, train_crops),
            ],
            axis=1,
        )
    }
    turns = rng.integers(0, 4, train_crops) if augment else np.zeros(train_crops, int)
    flips = rng.random(train_crops) < 0.5 if augment else np.zeros(train_crops, bool)
    for split in ("validation", "test"):
        if split in bounds:
            t, lft, b, r = bounds[split]
            grid = [
                (row, col)
                for row in nuclei.tile_origins(b - t, crop_size)
                for col in nuclei.tile_origins(r - lft, crop_size)
            ]
            origins[split] = np.array(grid) + np.array([t, lft])

    splits = {}
    for split, corners in origins.items():
        xs, boxes = [], []
        for index, (r, c) in enumerate(corners):
            x = image[r : r + crop_size, c : c + crop_size]
            ids = instances[r : r + crop_size, c : c + crop_size]
            if split == "train":
                x, ids = np.rot90(x, turns[index]), np.rot90(ids, turns[index])
                if flips[index]:
                    x, ids = x[:, ::-1], ids[:, ::-1]
            xs.append(np.ascontiguousarray(x)[..., None])
            boxes.append(instance_boxes(ids))
        most = max(len(b) for b in boxes)
        if most > max_objects:
            raise ConfigError(
                "data.max_objects", f"a {split} crop has {most} nuclei; raise max_objects"
            )
        labels = [np.zeros(len(b), np.int64) for b in boxes]
        splits[split] = (
            np.stack(xs).astype(np.float32),
            padded_targets(boxes, labels, max_objects, (crop_size, crop_size)),
        )
    return Source(
        train=splits["train"],
        validation=splits.get("validation"),
        test=splits["test"],
        input_shape=(crop_size, crop_size, 1),
        num_classes=1,
        class_names=["nucleus"],
        task="detection",
        extras={
            "input_shape_field": "data.crop_size",
            "max_objects": max_objects,
            "crop_origins": origins,
        },
    )
