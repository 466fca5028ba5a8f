"""apply: make each environment's server match its config, changing only what differs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from flowfleet._aio import run
from flowfleet.apply.deployments import ApplyResult, Progress
from flowfleet.apply.pipeline import apply_environment, apply_under_lock, plan_all
from flowfleet.commands.common import check_lock_timeout, check_timeout, load_desired
from flowfleet.errors import FlowfleetError
from flowfleet.output import report
from flowfleet.output.console import err, out, print_json
from flowfleet.output.progress import progress_for
from flowfleet.plan import saved as planfile
from flowfleet.plan.change import WRITES
from flowfleet.plan.environment import EnvironmentPlan, changes_of, check_applicable
from flowfleet.plan.saved import SavedPlan
from flowfleet.render.validate import CONNECT
from flowfleet.server.early import forget_all as forget_early_reads
from flowfleet.server.lock import DEFAULT_TIMEOUT
from flowfleet.server.pacing import DEFAULT_DEADLINE, deadline_in


class Refused(FlowfleetError):
    """apply will not run the plan as it stands."""


def run_apply(
    files: Sequence[Path],
    environments: Sequence[str],
    project: str | None,
    *,
    prune: bool,
    adopt: bool,
    max_deletes: int,
    yes: bool,
    as_json: bool,
    preview: str | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
    saved: SavedPlan | None = None,
    timeout: float = DEFAULT_DEADLINE,
) -> int:
    """Validate and plan every environment; when anything is to change, lock (planning
    again if another apply wrote meanwhile) and apply them all at once; 1 if any change
    failed or was not attempted. With a saved plan, apply it only if planning again
    (under the lock) gives exactly it. Nothing is sent after `timeout` seconds."""
    check_lock_timeout(lock_timeout)
    check_timeout(timeout)
    early: Literal["apply"] | None = "apply" if saved is None and preview is None else None
    try:
        with deadline_in(timeout):  # the early reads too
            desired = load_desired(files, environments, project, CONNECT, read_early=early)
            return apply_under_lock(
                desired,
                lambda: run(plan_all(desired, prune=prune, adopt=adopt, preview=preview)),
                lambda plans, before: _apply_plans(plans, max_deletes, yes, as_json, before),
                lock_timeout=lock_timeout,
                # a saved plan was reviewed: no question, but it must be the plan made now
                check=None if saved is None else lambda plans: planfile.check(saved, plans),
            )
    finally:
        forget_early_reads()


def run_saved_apply(
    path: Path,
    *,
    given: Sequence[str],
    max_deletes: int,
    as_json: bool,
    lock_timeout: float,
    timeout: float = DEFAULT_DEADLINE,
) -> int:
    """Apply a plan saved by `plan --out`, with the files and options it was planned with."""
    if given:
        raise Refused(
            f"{path}: a saved plan fixes the files, environments and options it was planned "
            f"with; drop {', '.join(given)} (or plan again with them and --out)"
        )
    saved = planfile.read(path)
    r = saved.request
    return run_apply(
        [Path(f) for f in r.files],
        r.environments,
        r.project,
        prune=r.prune,
        adopt=r.adopt,
        max_deletes=max_deletes,
        yes=True,
        preview=r.preview,
        as_json=as_json,
        lock_timeout=lock_timeout,
        saved=saved,
        timeout=timeout,
    )


def _apply_plans(
    plans: Sequence[EnvironmentPlan],
    max_deletes: int,
    yes: bool,
    as_json: bool,
    before_writes: Callable[[], None],
) -> int:
    check_applicable(plans, max_deletes, option="--max-deletes")
    if not as_json:
        out("\n\n".join(report.plan_text(p) for p in plans))
    if not any(p.has_changes for p in plans):
        if as_json:
            print_json({"plans": report.plan_json(plans), "results": []})
        return 0
    _confirm(yes)
    before_writes()
    results = _apply_all(plans, quiet=as_json)
    if as_json:
        print_json(
            {"plans": report.plan_json(plans), "results": [report.result_json(r) for r in results]}
        )
    return 0 if all(r.complete for r in results) else 1


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused("not on a terminal: pass --yes to apply without asking")
    answer = input("Apply these changes? Only 'yes' is accepted: ")
    if answer.strip() != "yes":
        raise Refused("apply cancelled; nothing was changed")


def _apply_all(plans: Sequence[EnvironmentPlan], *, quiet: bool) -> list[ApplyResult]:
    """Every environment at once, each on its own server: one that fails or hangs does
    not hold the others back. Then each one's summary."""
    totals = {
        p.plan.environment: len([c for c in changes_of(p) if c.action in WRITES]) for p in plans
    }

    async def apply_each(progress: dict[str, Progress]) -> list[ApplyResult]:
        return list(
            await asyncio.gather(
                *(apply_environment(p, progress[p.plan.environment]) for p in plans)
            )
        )

    with progress_for(totals, quiet=quiet) as progress:
        results = run(apply_each(progress))
    for result in results:
        _summary(result, quiet=quiet)
    return results


def _summary(result: ApplyResult, *, quiet: bool) -> None:
    for outcome in result.failed:
        err(f"failed: {result.environment}: {outcome.change.name}: {outcome.error}")
    not_attempted = report.not_attempted_text(result)
    if not_attempted:
        err(not_attempted)
    if not quiet:
        out(report.result_line(result))
    incomplete = report.incomplete_text(result)
    if incomplete:
        err(incomplete)
