"""One error hierarchy: user errors exit 1, anything else is a bug (exit 3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a config file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's input, where it is, and in which environments."""

    location: Location | None
    message: str
    environments: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        envs = f" [{', '.join(self.environments)}]" if self.environments else ""
        return f"{where}{self.message}{envs}"


class FlowfleetError(Exception):
    """Base of every error caused by the user's input or environment (exit 1)."""


class ConfigError(FlowfleetError):
    """A config file cannot be read or does not match the schema."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}" if location else message)


class ValidationFailed(FlowfleetError):
    """One or more problems found while validating; carries all of them."""

    def __init__(self, problems: Iterable[Problem], warnings: Iterable[Problem] = ()) -> None:
        self.problems = merge_problems(problems)
        self.warnings = merge_problems(warnings)  # shown before the problems
        super().__init__("\n".join(str(p) for p in self.problems))


class PlanError(FlowfleetError):
    """A plan that cannot be applied (e.g. a work pool missing on the server, too many
    deletions); `errors` lists why. Raised by apply, from the command line and the Python
    API alike, before anything is written."""

    def __init__(self, errors: Sequence[str], message: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(message or "the plan cannot be applied:\n  " + "\n  ".join(self.errors))


def merge_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sort problems by place and fold the same problem seen in several environments."""
    merged: dict[tuple[Location | None, str], set[str]] = {}
    for problem in problems:
        merged.setdefault((problem.location, problem.message), set()).update(problem.environments)
    ordered = sorted(merged.items(), key=lambda item: (_sort_key(item[0][0]), item[0][1]))
    return [Problem(loc, msg, tuple(sorted(envs))) for (loc, msg), envs in ordered]


def _sort_key(location: Location | None) -> tuple[str, int, int]:
    return (location.file, location.line, location.column) if location else ("", 0, 0)
