"""The registries of model factories and dataset loaders.

Adding a model or a dataset is one decorated function in one module, and one import line in
its package's ``__init__`` (``models/__init__.py``, ``datasets/__init__.py``), which lists
every family and source explicitly::

    from keras_curriculum.registry import register_model

    @register_model("mlp")
    def mlp(*, input_shape, num_classes, hidden_units=(64,)): ...

The description shown by ``keras-curriculum list`` is the first line of the function's
docstring; ``keras-curriculum list NAME`` adds each parameter, its default and its description
from the docstring's ``Args:`` section (where every factory documents each parameter once).

Keyword arguments from a config are checked against the function's signature (names and
type hints) before it is called, so a typo or a wrong type is reported with the field path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic

from keras_curriculum.errors import (
    ConfigError,
    CurriculumError,
    describe_validation_error,
    did_you_mean,
)


@dataclass(frozen=True)
class Entry:
    name: str
    function: Callable[..., Any]
    description: str

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        """The factory's keyword parameters (a model class's own, without keras.Model's
        ``**kwargs``)."""
        return {
            name: p
            for name, p in inspect.signature(self.function).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }

    def documentation(self) -> dict[str, str]:
        """Parameter → description, from the ``Args:`` section of the factory's docstring
        (Google style, as Keras' applications write it: ``name: text`` one level in,
        continuation lines further in)."""
        target = getattr(self.function, "func", self.function)  # functools.partial → function
        lines = (inspect.getdoc(target) or "").splitlines()
        found: dict[str, str] = {}
        start = next((i for i, line in enumerate(lines) if line.strip() == "Args:"), None)
        if start is None:
            return found
        indent = _indent(lines[start])
        name = None
        for line in lines[start + 1 :]:
            if not line.strip():
                continue
            if _indent(line) <= indent:
                break  # the next section (Returns:, …) or the prose after the list
            text = line.strip()
            head, colon, rest = text.partition(":")
            if colon and _indent(line) == indent + 4 and head.isidentifier():
                name = head
                found[name] = rest.strip()
            elif name is not None:
                found[name] = f"{found[name]} {text}".strip()
        return found

    def describe(self) -> str:
        """The lines ``keras-curriculum list NAME`` prints: the description, then each
        parameter with its default and its ``Args:`` text."""
        documented = self.documentation()
        lines = [f"{self.name}: {self.description}"]
        for name, parameter in self.parameters.items():
            default = (
                "required" if parameter.default is parameter.empty else repr(parameter.default)
            )
            lines.append(f"  {name} = {default}")
            if documented.get(name):
                lines.append(f"      {documented[name]}")
        return "\n".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class Registry:
    """Names → entries of one kind. It finds nothing by itself: a package's ``__init__``
    imports its modules, whose decorators fill it (``keras_curriculum.models.available()``
    is the way to ask, since importing ``models`` imports every family)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, *, description: str | None = None):
        def decorator(function):
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            doc = description or (inspect.getdoc(function) or "").split("\n")[0]
            self._entries[name] = Entry(name, function, doc)
            return function

        return decorator

    def available(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[name] for name in self.available()]

    def get(self, name: str) -> Entry:
        entry = self._entries.get(name)
        if entry is None:
            for prefix, resolver in _PREFIX_RESOLVERS.get(self.kind, {}).items():
                if name.startswith(prefix):
                    return resolver(name)
            raise CurriculumError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self._entries)}"
                f" (available: {', '.join(sorted(self._entries))})"
            )
        return entry


# "tfds:mnist"-style names resolved by a prefix rather than one entry per name.
_PREFIX_RESOLVERS: dict[str, dict[str, Callable[[str], Entry]]] = {}


def register_prefix(kind: str, prefix: str, resolver: Callable[[str], Entry]) -> None:
    _PREFIX_RESOLVERS.setdefault(kind, {})[prefix] = resolver


def check_arguments(
    function: Callable[..., Any],
    arguments: dict[str, Any],
    *,
    field: str,
    provided: set[str] = frozenset(),
) -> dict[str, Any]:
    """Validates ``arguments`` against ``function``'s keyword parameters and their type hints.

    Returns the arguments coerced by pydantic (``"0.5"`` stays an error, ``[128, 64]`` becomes
    the annotated tuple). ``provided`` names parameters that will be filled in later (for
    example ``input_shape`` from the data's metadata), so they do not count as missing.
    Raises ConfigError naming ``field.<argument>``.
    """
    signature = inspect.signature(function)
    parameters = {
        name: p
        for name, p in signature.parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    # A model class's ``**kwargs`` are keras.Model's own (dtype, trainable), not config keys.
    takes_any = not isinstance(function, type) and any(
        p.kind == p.VAR_KEYWORD for p in signature.parameters.values()
    )
    for key in arguments:
        if key not in parameters and not takes_any:
            raise ConfigError(f"{field}.{key}", f"unknown key{did_you_mean(key, parameters)}")
    for name, p in parameters.items():
        if p.default is p.empty and name not in arguments and name not in provided:
            raise ConfigError(f"{field}.{name}", "missing required argument")

    hints = _type_hints(function)
    fields = {name: (hints.get(name, Any), ...) for name in arguments if name in parameters}
    target = getattr(function, "func", function)  # a functools.partial (tfds:<name>) → its function
    model = pydantic.create_model(
        f"{getattr(target, '__name__', 'factory')}_arguments",
        __config__=pydantic.ConfigDict(arbitrary_types_allowed=True, strict=False),
        **fields,
    )
    try:
        validated = model.model_validate(arguments)
    except pydantic.ValidationError as error:
        location, message = describe_validation_error(error.errors()[0])
        raise ConfigError(f"{field}.{location}", message) from None
    out = dict(arguments)
    out.update({name: getattr(validated, name) for name in fields})
    return out


def _type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        import typing

        return typing.get_type_hints(getattr(function, "func", function))
    except Exception:  # unresolvable forward references: skip type checks, keep name checks
        return {}


MODELS = Registry("model")
DATASETS = Registry("dataset")

register_model = MODELS.register
register_dataset = DATASETS.register
