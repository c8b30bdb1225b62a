"""Fashion-MNIST garments with their foreground masks: real images, masks derived from pixels.

Each 28×28 garment lies on a black background, so its silhouette is the set of pixels brighter
than ``threshold`` (10 of 255 drops the faint speckle around many garments), with enclosed
holes (dark prints, a bag's handle opening) filled in. The
images are zero-padded to ``image_size`` (default 32) so that a U-Net of depth up to 5 can
pool them (28 = 4·7 would allow only depth 2). Images and labels are read by
:mod:`keras_curriculum.datasets.fashion_mnist`.
"""

from __future__ import annotations

import numpy as np

from keras_curriculum.datasets.fashion_mnist import load_arrays, subsample
from keras_curriculum.datasets.source import (
    Description,
    Source,
    register_metadata,
    segmentation_description,
)
from keras_curriculum.errors import ConfigError
from keras_curriculum.registry import register_dataset

CLASS_NAMES = ["background", "garment"]


def foreground_masks(images: np.ndarray, threshold: int = 10) -> np.ndarray:
    """``uint8`` masks: pixel > ``threshold``, with holes inside each silhouette filled."""
    from scipy.ndimage import binary_fill_holes

    return np.stack([binary_fill_holes(image > threshold) for image in images]).astype(np.uint8)


@register_metadata("fashion_mnist_masks")
def fashion_mnist_masks_metadata(*, image_size: int = 32, threshold: int = 10) -> Description:
    if image_size < 28:
        raise ConfigError(
            "data.image_size", f"must be at least 28 (the images are 28×28), got {image_size}"
        )
    if not 0 <= threshold < 255:
        raise ConfigError("data.threshold", f"expected a pixel value in [0, 255), got {threshold}")
    return segmentation_description(image_size, 1, CLASS_NAMES, "data.image_size")


@register_dataset("fashion_mnist_masks")
def fashion_mnist_masks(
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    image_size: int = 32,
    threshold: int = 10,
    seed: int = 0,
) -> Source:
    """Fashion-MNIST foreground segmentation (60,000 / 10,000): garment vs background masks.

    ``train_size`` / ``test_size`` take seeded subsets stratified by garment class.

    Args:
        train_size: a seeded subset of the training images, stratified by garment (default: all).
        test_size: a seeded subset of the test images, stratified by garment (default: all).
        image_size: side the 28×28 images and masks are zero-padded to (at least 28).
        threshold: a pixel above this value (of 255) is foreground.
        seed: seeds the subsets.
    """
    description = fashion_mnist_masks_metadata(image_size=image_size, threshold=threshold)
    (x_train, y_train), (x_test, y_test) = load_arrays()
    x_train, _ = subsample(x_train, y_train, train_size, seed)
    x_test, _ = subsample(x_test, y_test, test_size, seed)
    before = (image_size - 28) // 2
    padding = ((0, 0), (before, image_size - 28 - before), (before, image_size - 28 - before))

    def prepare(images: np.ndarray):
        images = np.pad(images, padding)
        return images[..., None].astype(np.float32) / 255.0, foreground_masks(images, threshold)

    return description.source(train=prepare(x_train), test=prepare(x_test))
