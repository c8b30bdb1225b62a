"""User-facing errors: each one is printed as a single line by the CLI, which exits with status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class CurriculumError(Exception):
    """An error in what the user asked for (a config, a path, a name), not a bug. The CLI
    prints it as one line and exits with :attr:`exit_status`."""

    exit_status = 2


class DivergedError(CurriculumError):
    """Training produced a non-finite loss: the run is kept, marked ``diverged``."""

    exit_status = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so a run records it the same way."""


class ConfigError(CurriculumError):
    """A config value is wrong: names the file (when known) and the full field path."""

    def __init__(self, field: str | None, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join([*parts, self.message])

    def with_source(self, source: str | None) -> ConfigError:
        return ConfigError(self.field, self.message, source=self.source or source)

    def under(self, prefix: str) -> ConfigError:
        """The same error with its field path nested under ``prefix``."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return ConfigError(field, self.message, source=self.source)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# ---------------------------------------------------------------------------------------------
# pydantic validation errors → (field path, one-line message)

_EXPECTED = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "sequence_str": "expected a list",
    "iterable_type": "expected a list",
    "tuple_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dataclass_type": "expected a mapping",
    "dataclass_exact_type": "expected a mapping",
}


def describe_validation_error(error: dict[str, Any], model: Any = None) -> tuple[str, str]:
    """Turns one pydantic error into (dotted field path, one-line message)."""
    location = [str(part) for part in error["loc"] if not _is_union_tag(part)]
    path = ".".join(location)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        choices = _field_names(model, location[:-1]) if model else []
        return path, f"unknown key{did_you_mean(location[-1], choices)}"
    if kind == "missing":
        return path, "missing required field"
    if kind in _EXPECTED:
        return path, f"{_EXPECTED[kind]}, got {_show(value)}"
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return path, f"expected one of {expected}, got {_show(value)}"
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    return path, f"{message[0].lower()}{message[1:]}, got {_show(value)}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member's type name (e.g. 'int', 'tuple[int,int]') in the path.
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "none", "list", "dict"}
        or "[" in part
        or part.startswith(("function-", "literal", "ConvBlock", "is-instance"))
    )


def _field_names(model: Any, location: list[str]) -> list[str]:
    current: Any = model
    for part in location:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        current = next(
            (
                a
                for a in getattr(annotation, "__args__", (annotation,))
                if hasattr(a, "model_fields")
            ),
            None,
        )
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))
