"""Classification losses beyond Keras' own.

Label smoothing (Szegedy et al. 2016; notes 002 §3): train towards 1 − ε + ε/K for the true
class and ε/K for the K − 1 others instead of 1 and 0, so the network is never pushed to
infinitely confident logits. Keras smooths one-hot targets only; the data sets of this
project give integer labels, so :class:`SmoothedSparseCrossentropy` one-hot encodes them
first. In a config::

    loss: {name: smoothed_sparse_categorical_crossentropy, label_smoothing: 0.1}
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="keras_curriculum")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against K class probabilities, with label smoothing ε."""

    def __init__(
        self,
        num_classes: int,
        label_smoothing: float = 0.1,
        from_logits: bool = False,
        name: str = "smoothed_sparse_categorical_crossentropy",
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        targets = keras.ops.one_hot(labels, self.num_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            targets, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


def smoothed_sparse_crossentropy(
    *, num_classes: int, label_smoothing: float = 0.1, from_logits: bool = False
) -> SmoothedSparseCrossentropy:
    """The config's ``smoothed_sparse_categorical_crossentropy`` (K from the data)."""
    return SmoothedSparseCrossentropy(
        num_classes, label_smoothing=label_smoothing, from_logits=bool(from_logits)
    )
