"""Shapes (SYNTHETIC): seeded images of circles, squares and triangles with per-class masks.

A generated data set, named as such: each RGB image has a random background colour, one to
``max_shapes`` shapes of random kind, size, position and colour (later shapes occlude earlier
ones, in the image and in the mask), and Gaussian pixel noise. Colours are random, so only the
outline tells a circle from a square or a triangle: a small multi-class segmentation task
(classes background, circle, square, triangle) that trains in minutes on a CPU.
"""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    segmentation_description,
)
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

CLASS_NAMES = ["background", "circle", "square", "triangle"]


def shape_mask(
    kind: int, rows: np.ndarray, cols: np.ndarray, row: float, col: float, radius: float
) -> np.ndarray:
    """Pixels inside a circle (1), an axis-aligned square (2) or an upward triangle (3) of
    half-size ``radius`` centred at (``row``, ``col``)."""
    if kind == 1:
        return (rows - row) ** 2 + (cols - col) ** 2 <= radius**2
    if kind == 2:
        return (np.abs(rows - row) <= radius) & (np.abs(cols - col) <= radius)
    # Apex at the top, base at the bottom: below the apex row, above the base row, and inside
    # the two slanted edges (each edge's half-width grows by 1/2 per row going down).
    inside_rows = (rows >= row - radius) & (rows <= row + radius)
    half_width = (rows - (row - radius)) / 2
    return inside_rows & (np.abs(cols - col) <= half_width)


def generate(count: int, image_size: int, max_shapes: int, noise: float, rng: np.random.Generator):
    """``count`` images ``(S, S, 3)`` in [0, 1] and class masks ``(S, S)`` (uint8)."""
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(np.float32)
    images = np.empty((count, image_size, image_size, 3), np.float32)
    masks = np.zeros((count, image_size, image_size), np.uint8)
    for index in range(count):
        background = rng.uniform(0, 1, 3)
        image = np.broadcast_to(background, (image_size, image_size, 3)).copy()
        for _ in range(rng.integers(1, max_shapes + 1)):
            kind = int(rng.integers(1, 4))
            radius = rng.uniform(image_size / 12, image_size / 5)
            row, col = rng.uniform(radius, image_size - radius, 2)
            inside = shape_mask(kind, rows, cols, row, col, radius)
            # A colour at least 0.3 away from the background in some channel, so it shows.
            colour = rng.uniform(0, 1, 3)
            while np.abs(colour - background).max() < 0.3:
                colour = rng.uniform(0, 1, 3)
            image[inside] = colour
            masks[index][inside] = kind
        images[index] = np.clip(image + rng.normal(0, noise, image.shape), 0, 1)
    return images, masks


@register_metadata("shapes")
def shapes_metadata(*, image_size: int = 64, max_shapes: int = 4) -> Description:
    if image_size < 16:
        raise ConfigError("data.image_size", f"expected at least 16 pixels, got {image_size}")
    if max_shapes < 1:
        raise ConfigError("data.max_shapes", f"expected at least 1, got {max_shapes}")
    return segmentation_description(image_size, 3, CLASS_NAMES, "data.image_size")


@register_dataset("shapes")
def shapes(
    *,
    train_size: int = 2000,
    test_size: int = 400,
    image_size: int = 64,
    max_shapes: int = 4,
    noise: float = 0.05,
    seed: int = 0,
) -> Source:
    """SYNTHETIC shapes: seeded RGB images of circles/squares/triangles with per-class masks.

    Args:
        train_size: training images.
        test_size: test images.
        image_size: side of the square images.
        max_shapes: each image has 1 to this many shapes.
        noise: standard deviation of the Gaussian pixel noise.
        seed: seeds the images.
    """
    description = shapes_metadata(image_size=image_size, max_shapes=max_shapes)
    # Separate streams, so the test set does not change when train_size does.
    train_rng, test_rng = (np.random.default_rng([seed, stream]) for stream in (0, 1))
    return description.source(
        train=generate(train_size, image_size, max_shapes, noise, train_rng),
        test=generate(test_size, image_size, max_shapes, noise, test_rng),
    )
