"""Fluorescence nuclei: one real 512×512 microscopy image with its nucleus masks.

The image and its instance mask (about 125 labelled nuclei, from the Kaggle Data Science Bowl
2018 collection) ship in the ``stardist`` 0.9.2 wheel (BSD-3) as ``stardist/data/images/
img2d.tif`` and ``mask2d.tif``. ``keras-curriculum data prepare nuclei`` downloads the wheel
with pip (stardist itself is never installed or imported) and copies the two TIFFs into the
cache. The segmentation target is binary: foreground = ``mask > 0``.

One image is still a fair train/test split if the two never share a pixel: the columns left
of ``split_column`` are for learning, the columns right of it are held out for testing. The
bottom ``validation_rows`` rows of the left part are kept for validation. Training uses
seeded random crops of the top-left region, each randomly rotated by a multiple of 90° and
flipped (a nucleus has no preferred orientation); validation and test crops tile their
regions (stride half a crop) so every held-out pixel is scored::

    ┌────────────────────┬───────────┐
    │ train (random      │ test      │
    │ crops + flips/rot) │ (tiled)   │
    ├────────────────────┤           │
    │ validation (tiled) │           │
    └────────────────────┴───────────┘
                    split_column
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np

from keras_curriculum.datasets.cache import (
    cached_path,
    download_package,
    not_prepared,
    read_member,
    write_atomically,
)
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    register_preparer,
    segmentation_description,
)
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

REQUIREMENT = "stardist==0.9.2"
MEMBERS = {
    "img2d.tif": "stardist/data/images/img2d.tif",
    "mask2d.tif": "stardist/data/images/mask2d.tif",
}
CLASS_NAMES = ["background", "nucleus"]


@register_preparer("nuclei")
def prepare_nuclei() -> Path:
    """Copies the image and mask TIFFs out of the stardist wheel into the cache."""
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_package(REQUIREMENT, Path(tmp))
        for filename, member in MEMBERS.items():
            data = read_member(wheel, member)
            read_tiff(data)  # a corrupt download fails here, not at training time
            write_atomically(cached_path("nuclei", filename), data)
    return cached_path("nuclei", "img2d.tif").parent


def read_tiff(data: bytes) -> np.ndarray:
    import tifffile

    return tifffile.imread(io.BytesIO(data))


def load_image_and_mask() -> tuple[np.ndarray, np.ndarray]:
    """The raw ``(512, 512)`` uint16 image and its instance mask (0 = background) from the cache."""
    arrays = []
    for filename in MEMBERS:
        path = cached_path("nuclei", filename)
        if not path.exists():
            raise not_prepared("nuclei", path)
        arrays.append(read_tiff(path.read_bytes()))
    return arrays[0], arrays[1]


def tile_origins(length: int, crop: int) -> list[int]:
    """Start positions of crops covering ``[0, length)`` with stride ``crop // 2``."""
    starts = list(range(0, length - crop + 1, max(1, crop // 2)))
    if starts[-1] != length - crop:
        starts.append(length - crop)
    return starts


def regions(
    shape: tuple[int, int], *, crop_size: int, split_column: int, validation_rows: int
) -> dict[str, tuple[int, int, int, int]]:
    """Each split's region of the image as ``(top, left, bottom, right)``, checked against the
    crop size; errors name the data option to change."""
    height, width = shape
    if not 0 < split_column < width:
        raise ConfigError(
            "data.split_column",
            f"expected a column inside the image (0, {width}), got {split_column}",
        )
    if not 0 <= validation_rows < height:
        raise ConfigError(
            "data.validation_rows", f"expected 0 ≤ rows < {height}, got {validation_rows}"
        )
    if crop_size < 1:
        raise ConfigError("data.crop_size", f"expected a positive size, got {crop_size}")
    bounds = {
        "train": (0, 0, height - validation_rows, split_column),
        "test": (0, split_column, height, width),
    }
    if validation_rows:
        bounds["validation"] = (height - validation_rows, 0, height, split_column)
    for split, (top, left, bottom, right) in bounds.items():
        if crop_size > min(bottom - top, right - left):
            raise ConfigError(
                "data.crop_size",
                f"a {crop_size}×{crop_size} crop does not fit the {split} region of"
                f" {bottom - top}×{right - left} pixels (change data.crop_size, data.split_column"
                " or data.validation_rows)",
            )
    return bounds


def normalize(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Maps the 1st–99.8th percentiles of ``reference`` (training pixels only) to 0–1."""
    low, high = np.percentile(reference, (1, 99.8))
    return ((image.astype(np.float32) - low) / max(high - low, 1e-6)).astype(np.float32)


@register_metadata("nuclei")
def nuclei_metadata(*, crop_size: int = 128) -> Description:
    if crop_size < 1:
        raise ConfigError("data.crop_size", f"expected a positive size, got {crop_size}")
    return segmentation_description(crop_size, 1, CLASS_NAMES, "data.crop_size")


@register_dataset("nuclei")
def nuclei(
    *,
    crop_size: int = 128,
    split_column: int = 320,
    validation_rows: int = 128,
    train_crops: int = 512,
    augment: bool = True,
    seed: int = 0,
) -> Source:
    """Real fluorescence nuclei (stardist wheel): binary masks; train crops left, test crops right.

    ``train_crops`` seeded random crops of ``crop_size`` from the left part (rotated and flipped
    when ``augment``), validation tiles from its bottom ``validation_rows`` rows, test tiles from
    the columns right of ``split_column``: no test pixel is ever seen in training.
    With ``validation_rows: 0`` the loader's ``validation_split`` holds out some training crops
    instead (they share pixels with other training crops, never with test crops).

    Args:
        crop_size: side of every training crop and evaluation tile.
        split_column: pixels right of this column are the test part.
        validation_rows: the training part's bottom rows kept for validation tiles (0: none).
        train_crops: seeded random training crops drawn from the training part.
        augment: rotate and flip the training crops.
        seed: seeds the crops and their rotations and flips.
    """
    image, instances = load_image_and_mask()
    bounds = regions(
        image.shape, crop_size=crop_size, split_column=split_column, validation_rows=validation_rows
    )
    top, left, bottom, right = bounds["train"]
    image = normalize(image, image[top:bottom, left:right])
    mask = (instances > 0).astype(np.uint8)

    def crops(origins: np.ndarray, rotations=None, flips=None):
        x = np.stack([image[r : r + crop_size, c : c + crop_size] for r, c in origins])
        y = np.stack([mask[r : r + crop_size, c : c + crop_size] for r, c in origins])
        if rotations is not None:
            x = np.stack([np.rot90(a, k) for a, k in zip(x, rotations, strict=True)])
            y = np.stack([np.rot90(a, k) for a, k in zip(y, rotations, strict=True)])
            x = np.where(flips[:, None, None], x[:, :, ::-1], x)
            y = np.where(flips[:, None, None], y[:, :, ::-1], y)
        return np.ascontiguousarray(x[..., None]), np.ascontiguousarray(y)

    rng = np.random.default_rng(seed)
    train_origins = np.stack(
        [
            rng.integers(top, bottom - crop_size + 1, train_crops),
            rng.integers(left, right - crop_size + 1, train_crops),
        ],
        axis=1,
    )
    rotations = rng.integers(0, 4, train_crops) if augment else None
    flips = rng.random(train_crops) < 0.5 if augment else None
    origins = {"train": train_origins}
    splits = {"train": crops(train_origins, rotations, flips)}
    for split in ("validation", "test"):
        if split in bounds:
            t, lft, b, r = bounds[split]
            grid = [
                (row, col)
                for row in tile_origins(b - t, crop_size)
                for col in tile_origins(r - lft, crop_size)
            ]
            origins[split] = np.array(grid) + np.array([t, lft])
            splits[split] = crops(origins[split])

    return nuclei_metadata(crop_size=crop_size).source(
        train=splits["train"],
        validation=splits.get("validation"),
        test=splits["test"],
        extras={
            "crop_origins": origins,  # (row, column) of each crop's top-left pixel
            "regions": bounds,
        },
    )
