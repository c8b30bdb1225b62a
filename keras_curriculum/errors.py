"""User-facing errors: each one is printed as a single line by the CLI, which exits with status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CurriculumError(Exception):
    """An error in what the user asked for (a config, a path, a name), not a bug."""


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
