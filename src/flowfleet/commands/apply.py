"""apply: make each environment's server match its config, changing only what differs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from flowfleet.apply.deployments import ApplyResult
from flowfleet.apply.pipeline import apply_environment, apply_under_lock, plan_all
from flowfleet.commands.common import check_lock_timeout, load_desired
from flowfleet.errors import FlowfleetError
from flowfleet.output import report
from flowfleet.output.console import err, out, print_json
from flowfleet.output.progress import progress_for
from flowfleet.plan import saved as planfile
from flowfleet.plan.change import WRITES
from flowfleet.plan.environment import EnvironmentPlan, changes_of, check_applicable
from flowfleet.plan.saved import SavedPlan
from flowfleet.render.validate import CONNECT
from flowfleet.server.lock import DEFAULT_TIMEOUT


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
) -> int:
    """Validate and plan every environment; when anything is to change, lock (planning
    again if another apply wrote meanwhile) and apply each; 1 if any change failed. With
    a saved plan, apply it only if planning again (under the lock) gives exactly it."""
    check_lock_timeout(lock_timeout)
    desired = load_desired(files, environments, project, CONNECT)
    return apply_under_lock(
        desired,
        lambda: asyncio.run(plan_all(desired, prune=prune, adopt=adopt, preview=preview)),
        lambda plans, before_writes: _apply_plans(plans, max_deletes, yes, as_json, before_writes),
        lock_timeout=lock_timeout,
        # a saved plan was reviewed: no question, but it must be the plan made now
        check=None if saved is None else lambda plans: planfile.check(saved, plans),
    )


def run_saved_apply(
    path: Path, *, given: Sequence[str], max_deletes: int, as_json: bool, lock_timeout: float
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
    results = [_apply_one(p, quiet=as_json) for p in plans]
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


def _apply_one(planned: EnvironmentPlan, *, quiet: bool) -> ApplyResult:
    changes = len([c for c in changes_of(planned) if c.action in WRITES])
    with progress_for(planned.plan.environment, changes, quiet=quiet) as progress:
        result = asyncio.run(apply_environment(planned, progress))
    for outcome in result.failed:
        err(f"failed: {planned.plan.environment}: {outcome.change.name}: {outcome.error}")
    if result.not_attempted:
        err(f"not attempted: {planned.plan.environment}: {result.not_attempted[0].error}")
    if not quiet:
        out(report.result_line(result))
    incomplete = report.incomplete_text(result)
    if incomplete:
        err(incomplete)
    return result
