"""Progress while applying: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from flowfleet.apply.deployments import Outcome, Progress
from flowfleet.plan.change import Action

WRITES = (Action.CREATE, Action.UPDATE, Action.DELETE)


@contextmanager
def progress_for(environment: str, total: int, *, quiet: bool) -> Iterator[Progress]:
    """A callback to report each finished change."""
    if quiet:
        yield lambda outcome: None
    elif sys.stderr.isatty():
        from rich.progress import Progress as Bar

        with Bar(transient=True) as bar:
            task = bar.add_task(f"applying {environment}", total=total)

            def advance(outcome: Outcome) -> None:
                if outcome.change.action in WRITES:
                    bar.advance(task)

            yield advance
    else:

        def line(outcome: Outcome) -> None:
            if outcome.change.action not in WRITES or not outcome.attempted:
                return  # the summary counts what was not attempted, in one line
            status = "ok" if outcome.ok else "FAILED"
            sys.stderr.write(
                f"{environment}: {outcome.change.action.value} {outcome.change.name} {status}\n"
            )

        yield line
