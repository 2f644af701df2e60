"""The one error tree. Adapters translate third-party exceptions into these; only cli.py prints and exits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a user's file the problem is (line is 1-based, None when unknown)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


class ShipyardError(Exception):
    """A user-facing error: a message, where it happened, and a hint on what to do."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def render(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def __str__(self) -> str:
        return self.render()


class ConfigError(ShipyardError):
    """werf.yaml / werf-giterminism.yaml is invalid."""


class GiterminismError(ShipyardError):
    """A file the build needs is not committed and giterminism does not allow it."""


class GitError(ShipyardError):
    """The project is not a usable git repository."""


class DockerfileError(ShipyardError):
    """A Dockerfile cannot be parsed or evaluated."""


class UsageError(ShipyardError):
    """Bad command-line usage (flags, image names)."""
