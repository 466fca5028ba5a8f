"""Everything flowfleet prints goes through here: stdout for results, stderr for the rest."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from flowfleet.errors import Problem


def out(text: str = "") -> None:
    """A line of results on stdout."""
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """A line of diagnostics on stderr."""
    sys.stderr.write(text + "\n")


def print_json(data: Any) -> None:
    """Stable, indented JSON on stdout: the same data gives the same bytes."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_warnings(warnings: Iterable[Problem]) -> None:
    """Each warning as `file:line:column: warning: message [environments]`."""
    for warning in warnings:
        where = f"{warning.location}: " if warning.location else ""
        envs = f" [{', '.join(warning.environments)}]" if warning.environments else ""
        err(f"{where}warning: {warning.message}{envs}")


def print_problems(problems: Iterable[Problem], warnings: Iterable[Problem] = ()) -> None:
    """The warnings, then the problems and how many there are."""
    print_warnings(warnings)
    problems = list(problems)
    for problem in problems:
        err(str(problem))
    count = len(problems)
    err(f"{count} problem{'s' if count != 1 else ''} found; nothing was changed.")


def problems_json(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [
        {
            "file": p.location.file if p.location else None,
            "line": p.location.line if p.location else None,
            "column": p.location.column if p.location else None,
            "message": p.message,
            "environments": list(p.environments),
        }
        for p in problems
    ]
