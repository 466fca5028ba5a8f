"""The online half of the pipeline: connect, read live state, plan, apply.

Every selected environment is validated (before this) and planned before any is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowfleet.api import connect
from flowfleet.apply import ApplyResult, Progress, apply_plan
from flowfleet.connection import Target, resolve_target
from flowfleet.live import read_live
from flowfleet.plan import Plan, build_plan, ownership_marker
from flowfleet.resources import Deployment
from flowfleet.validate import Desired


@dataclass(frozen=True)
class EnvironmentPlan:
    desired: Desired
    target: Target
    plan: Plan


def managed_deployments(desired: Desired) -> list[Deployment]:
    """The desired deployments as they go to the server: with the ownership marker tag
    and the parameter schema read from each flow."""
    marker = ownership_marker(desired.project, desired.environment)
    return [
        r.deployment.model_copy(
            update={
                "tags": (*r.deployment.tags, marker)
                if marker not in r.deployment.tags
                else r.deployment.tags,
                "parameter_openapi_schema": desired.schemas.get(r.deployment.entrypoint),
            }
        )
        for r in desired.deployments
    ]


async def plan_environment(desired: Desired, *, prune: bool, adopt: bool) -> EnvironmentPlan:
    """Read one environment's server and plan it."""
    environment = desired.loaded.config.environments[desired.environment]
    target = resolve_target(desired.loaded.root, desired.environment, environment)
    deployments = managed_deployments(desired)
    marker = ownership_marker(desired.project, desired.environment)
    async with connect(target) as api:
        live = await read_live(
            api,
            flow_names=[d.flow_name for d in deployments],
            marker=marker,
            pools=[d.work_pool_name for d in deployments if d.work_pool_name],
        )
    plan = build_plan(
        desired.project, desired.environment, deployments, live, prune=prune, adopt=adopt
    )
    return EnvironmentPlan(desired, target, plan)


async def plan_all(
    desired: Sequence[Desired], *, prune: bool, adopt: bool
) -> list[EnvironmentPlan]:
    """Plan every environment (one after the other: local servers may need starting)."""
    return [await plan_environment(d, prune=prune, adopt=adopt) for d in desired]


async def apply_environment(planned: EnvironmentPlan, progress: Progress | None) -> ApplyResult:
    """Apply one environment's plan."""
    async with connect(planned.target) as api:
        return await apply_plan(api, planned.plan, progress)
