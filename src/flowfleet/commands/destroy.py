"""destroy --env E --preview NAME: delete exactly the deployments of one preview.

Only deployments carrying the preview's own marker are touched; the environment's
deployments, other previews and anything unmarked are never read as candidates. The plan
is made and applied by the core as an apply's is: under the environment's lock, marking
the environment written (see flowfleet.apply.pipeline.apply_under_lock).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from flowfleet._aio import run
from flowfleet.apply.pipeline import apply_environment, apply_under_lock, plan_destroy
from flowfleet.commands.common import check_lock_timeout, check_timeout, load_desired
from flowfleet.errors import FlowfleetError
from flowfleet.output import report
from flowfleet.output.console import err, out, print_json
from flowfleet.plan.change import Action
from flowfleet.plan.environment import EnvironmentPlan
from flowfleet.plan.preview import check_name
from flowfleet.render.validate import DELETE
from flowfleet.server.lock import DEFAULT_TIMEOUT
from flowfleet.server.pacing import DEFAULT_DEADLINE, deadline_in


class DestroyRefused(FlowfleetError):
    """destroy will not run as asked."""


def run_destroy(
    files: Sequence[Path],
    environment: str,
    project: str | None,
    *,
    preview: str,
    yes: bool,
    as_json: bool,
    lock_timeout: float = DEFAULT_TIMEOUT,
    timeout: float = DEFAULT_DEADLINE,
) -> int:
    """Plan the deletion of every deployment of the preview, show it, then delete under
    the environment's lock; 1 if a deletion failed or was not attempted. Nothing is sent
    after `timeout` seconds."""
    check_name(preview)
    check_lock_timeout(lock_timeout)
    check_timeout(timeout)
    [desired] = load_desired(files, [environment], project, DELETE)
    with deadline_in(timeout):
        return apply_under_lock(
            [desired],
            lambda: [run(plan_destroy(desired, preview))],
            lambda plans, before_writes: _destroy(plans[0], yes, as_json, before_writes),
            lock_timeout=lock_timeout,
        )


def _destroy(
    planned: EnvironmentPlan, yes: bool, as_json: bool, before_writes: Callable[[], None]
) -> int:
    if not as_json:
        out(report.plan_text(planned))
    if not planned.has_changes:
        if as_json:
            print_json({"plans": report.plan_json([planned]), "results": []})
        return 0
    _confirm(yes, len(planned.plan.of(Action.DELETE)))
    before_writes()
    result = run(apply_environment(planned, None))
    for outcome in result.failed:
        err(f"failed: {planned.plan.environment}: {outcome.change.name}: {outcome.error}")
    not_attempted = report.not_attempted_text(result)
    if not_attempted:
        err(not_attempted)
    if as_json:
        print_json({"plans": report.plan_json([planned]), "results": [report.result_json(result)]})
    else:
        out(report.result_line(result))
    return 0 if result.complete else 1


def _confirm(yes: bool, count: int) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise DestroyRefused("not on a terminal: pass --yes to destroy without asking")
    answer = input(f"Delete these {count} deployments? Only 'yes' is accepted: ")
    if answer.strip() != "yes":
        raise DestroyRefused("destroy cancelled; nothing was changed")
