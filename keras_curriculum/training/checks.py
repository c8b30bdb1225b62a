"""A config checked against the registries: every name and keyword argument it gives exists,
before anything is loaded, built or written.

``keras_curriculum.config`` knows the schema only (it imports no registry); this is the layer
that knows the models, datasets and objectives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keras_curriculum import config as schema
from keras_curriculum import datasets, models, objectives
from keras_curriculum.config import ExperimentConfig
from keras_curriculum.errors import ConfigError, CurriculumError
from keras_curriculum.registry import check_arguments


def check_config(config: ExperimentConfig) -> None:
    """Checks ``model.*`` and ``data.*`` keyword arguments against the registered functions,
    and the loss and metric names."""
    try:
        loader = datasets.get(config.data.name)
    except CurriculumError as error:
        raise ConfigError("data.name", str(error)) from None
    check_arguments(loader.function, config.data.options, field="data", provided={"seed"})
    try:
        factory = models.get(config.model.name)
    except CurriculumError as error:
        raise ConfigError("model.name", str(error)) from None
    # Metadata fields (input_shape, num_classes, …) come from the dataset unless given.
    check_arguments(
        factory.function,
        config.model.arguments,
        field="model",
        provided=set(factory.parameters),
    )
    objectives.check_names(config.training.loss, config.training.metrics)


def load_config(
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    *,
    data: dict[str, Any] | None = None,
    check_arguments: bool = True,
) -> ExperimentConfig:
    """Reads, merges, overrides and validates a config file (or an in-memory ``data`` dict).

    With ``check_arguments`` the model's and loader's keyword arguments are checked against
    their signatures too, so no config error waits until after training has started.
    """
    return schema.load_config(
        path, tuple(overrides), data=data, check=check_config if check_arguments else None
    )
