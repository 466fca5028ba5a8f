"""destroy --env E --preview NAME: delete exactly the deployments of one preview.

Only deployments carrying the preview's own marker are touched; the environment's
deployments, other previews and anything unmarked are never read as candidates.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from flowfleet.apply.pipeline import apply_environment
from flowfleet.commands.common import load_desired
from flowfleet.errors import FlowfleetError
from flowfleet.model.resources import LiveState
from flowfleet.model.target import Target
from flowfleet.output import report
from flowfleet.output.console import err, out, print_json
from flowfleet.plan.deployments import Action, Plan, build_plan
from flowfleet.plan.environment import EnvironmentPlan
from flowfleet.plan.preview import check_name, preview_environment, preview_marker
from flowfleet.render.validate import DELETE, Desired
from flowfleet.server.api import DEFAULT_DEADLINE, connect, deadline_in
from flowfleet.server.connection import resolve_target
from flowfleet.server.read import read_live


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
    timeout: float = DEFAULT_DEADLINE,
) -> int:
    """Plan the deletion of every deployment of the preview, show it, then delete; 1 if a
    deletion failed or was not attempted. Nothing is sent after `timeout` seconds."""
    from flowfleet.commands.apply import check_timeout

    check_name(preview)
    check_timeout(timeout)
    [desired] = load_desired(files, [environment], project, DELETE)
    with deadline_in(timeout):
        return _destroy(desired, preview, yes=yes, as_json=as_json)


def _destroy(desired: Desired, preview: str, *, yes: bool, as_json: bool) -> int:
    planned = asyncio.run(plan_destroy(desired, preview))
    if not as_json:
        out(report.plan_text(planned))
    if not planned.has_changes:
        if as_json:
            print_json({"plans": report.plan_json([planned]), "results": []})
        return 0
    _confirm(yes, len(planned.plan.of(Action.DELETE)))
    result = asyncio.run(apply_environment(planned, None))
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


async def plan_destroy(desired: Desired, preview: str) -> EnvironmentPlan:
    """A plan that deletes every deployment carrying the preview's marker."""
    environment = desired.environment
    config_env = desired.loaded.config.environments[environment]
    target = resolve_target(desired.loaded.root, environment, config_env)
    marker = preview_marker(desired.project, environment, preview)
    live = await _owned(target, marker)
    plan: Plan = build_plan(
        desired.project, preview_environment(environment, preview), [], live, prune=True
    )
    return EnvironmentPlan(desired, target, plan)


async def _owned(target: Target, marker: str) -> LiveState:
    async with connect(target) as api:
        return await read_live(api, flow_names=[], marker=marker, pools=[])


def _confirm(yes: bool, count: int) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise DestroyRefused("not on a terminal: pass --yes to destroy without asking")
    answer = input(f"Delete these {count} deployments? Only 'yes' is accepted: ")
    if answer.strip() != "yes":
        raise DestroyRefused("destroy cancelled; nothing was changed")
