"""Progress while applying: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flowfleet.apply.deployments import Outcome, Progress
from flowfleet.plan.change import Action

WRITES = (Action.CREATE, Action.UPDATE, Action.DELETE)


@contextmanager
def progress_for(totals: dict[str, int], *, quiet: bool) -> Iterator[dict[str, Progress]]:
    """A callback per environment (applied at the same time) to report each finished
    change: one bar per environment on a terminal, a line per change otherwise."""
    if quiet:
        yield {environment: lambda outcome: None for environment in totals}
    elif sys.stderr.isatty():
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            yield {
                environment: _bar(bar, bar.add_task(f"applying {environment}", total=total))
                for environment, total in totals.items()
            }
    else:
        yield {environment: _line(environment) for environment in totals}


def _bar(bar: Any, task: Any) -> Progress:
    def advance(outcome: Outcome) -> None:
        if outcome.change.action in WRITES:
            bar.advance(task)

    return advance


def _line(environment: str) -> Progress:
    def line(outcome: Outcome) -> None:
        if outcome.change.action not in WRITES or not outcome.attempted:
            return  # the summary names what was not attempted
        status = "ok" if outcome.ok else "FAILED"
        sys.stderr.write(
            f"{environment}: {outcome.change.action.value} {outcome.change.name} {status}\n"
        )

    return line
