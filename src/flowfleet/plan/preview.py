"""Preview environments: a paused copy of one environment's deployments for a pull request.

`apply --env dev --preview pr-42` applies dev's deployments named `<name>--pr-42`, tagged
with their own marker `flowfleet:<project>/dev/preview/pr-42` instead of dev's, every
schedule inactive. A preview only adds deployments: it uses dev's work pools, queues and
variables and never plans infrastructure. Because the marker differs, dev's prune never
sees a preview's deployments and a preview's prune or destroy never sees dev's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flowfleet.api import connect
from flowfleet.connection import Target, resolve_target
from flowfleet.errors import FlowfleetError
from flowfleet.live import read_live
from flowfleet.plan import PROTECTED_TAG, Plan, build_plan, ownership_marker
from flowfleet.planfile import Fingerprint, fingerprint
from flowfleet.resources import Deployment, LiveState
from flowfleet.validate import Desired

SEPARATOR = "--"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


class PreviewNameError(FlowfleetError):
    """A preview name that is not a short slug."""


def check_name(name: str) -> str:
    """The name itself if it is a slug of at most 40 letters, digits, '-' and '_'."""
    if not _NAME.fullmatch(name):
        raise PreviewNameError(
            f"--preview '{name}' is not a valid preview name; use 1 to 40 letters, digits, "
            "'-' and '_' (e.g. pr-42)"
        )
    return name


def preview_environment(environment: str, name: str) -> str:
    """How a preview is named in plans and in its marker: `dev/preview/pr-42`."""
    return f"{environment}/preview/{check_name(name)}"


def preview_marker(project: str, environment: str, name: str) -> str:
    """The ownership tag of a preview's deployments."""
    return ownership_marker(project, preview_environment(environment, name))


def preview_deployments(
    deployments: Sequence[Deployment], environment_marker: str, marker: str, name: str
) -> list[Deployment]:
    """The environment's managed deployments as the preview's: renamed, re-marked,
    unprotected (a preview is thrown away), every schedule inactive. Pure."""
    result = []
    for d in deployments:
        tags = tuple(t for t in d.tags if t not in (environment_marker, PROTECTED_TAG))
        result.append(
            d.model_copy(
                update={
                    "name": f"{d.name}{SEPARATOR}{name}",
                    "tags": (*tags, marker),
                    "schedules": tuple(s.model_copy(update={"active": False}) for s in d.schedules),
                }
            )
        )
    return result


async def _read(target: Target, marker: str, deployments: Sequence[Deployment]) -> LiveState:
    async with connect(target) as api:
        return await read_live(
            api,
            flow_names=[d.flow_name for d in deployments],
            marker=marker,
            pools=[d.work_pool_name for d in deployments if d.work_pool_name],
        )


async def plan_preview(
    desired: Desired, managed: Sequence[Deployment], name: str, *, prune: bool, adopt: bool
) -> tuple[Target, Plan, Fingerprint]:
    """Plan a preview of `desired`'s environment: deployments only, whose work pools
    must already exist (the environment's own apply creates them); with the fingerprint
    a saved plan of it is checked against."""
    environment = desired.environment
    config_env = desired.loaded.config.environments[environment]
    target = resolve_target(desired.loaded.root, environment, config_env)
    own = ownership_marker(desired.project, environment)
    marker = preview_marker(desired.project, environment, name)
    deployments = preview_deployments(managed, own, marker, name)
    live = await _read(target, marker, deployments)
    plan = build_plan(
        desired.project,
        preview_environment(environment, name),
        deployments,
        live,
        prune=prune,
        adopt=adopt,
    )
    return target, plan, fingerprint(deployments, [], live, {}, ())
