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
from dataclasses import dataclass

from flowfleet.errors import FlowfleetError
from flowfleet.model.resources import Deployment, LiveState
from flowfleet.plan.deployments import PROTECTED_TAG, Plan, build_plan, ownership_marker
from flowfleet.plan.environment import Fingerprint
from flowfleet.plan.saved import fingerprint
from flowfleet.render.validate import Desired

SEPARATOR = "--"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class PreviewScope:
    name: str
    marker: str
    deployments: list[Deployment]


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


def preview_scope(desired: Desired, managed: Sequence[Deployment], name: str) -> PreviewScope:
    """What a preview of `desired`'s environment consists of: its marker and its
    deployments (read from the server under that marker before planning)."""
    own = ownership_marker(desired.project, desired.environment)
    marker = preview_marker(desired.project, desired.environment, name)
    return PreviewScope(name, marker, preview_deployments(managed, own, marker, name))


def plan_destroy_preview(desired: Desired, name: str, live: LiveState) -> Plan:
    """Delete every deployment in `live` that carries the preview's marker (`live` is read
    under that marker only), and nothing else. Pure."""
    environment = preview_environment(desired.environment, name)
    return build_plan(desired.project, environment, [], live, prune=True)


def plan_preview(
    desired: Desired, scope: PreviewScope, live: LiveState, *, prune: bool, adopt: bool
) -> tuple[Plan, Fingerprint]:
    """Plan a preview: deployments only, whose work pools must already exist (the
    environment's own apply creates them); with the fingerprint a saved plan of it is
    checked against. Pure."""
    plan = build_plan(
        desired.project,
        preview_environment(desired.environment, scope.name),
        scope.deployments,
        live,
        prune=prune,
        adopt=adopt,
    )
    return plan, fingerprint(scope.deployments, [], live, {}, ())
