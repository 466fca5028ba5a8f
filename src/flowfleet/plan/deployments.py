"""plan(desired, live) → Plan: what apply would change, field by field. Pure.

A deployment is identified by (flow name, deployment name), Prefect's own key. Only the
fields flowfleet manages are compared, after normalising what the server normalises, so
that apply followed by plan is always empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flowfleet.model.masking import mask_env_change
from flowfleet.model.resources import COMPARED_FIELDS, Deployment, LiveDeployment, LiveState
from flowfleet.plan.change import DEPLOYMENT, WRITES, Action, Change, FieldChange
from flowfleet.plan.normalize import comparable, schedule_renames

PROTECTED_TAG = "flowfleet:protected"

DeploymentChange = Change[Deployment, LiveDeployment]


@dataclass(frozen=True)
class Plan:
    """Every change for one environment, plus the problems that forbid applying it."""

    project: str
    environment: str
    marker: str
    changes: tuple[DeploymentChange, ...]
    errors: tuple[str, ...] = ()
    orphans: tuple[str, ...] = ()  # owned, no longer declared, kept (no --prune)
    flow_ids: dict[str, str] = field(default_factory=dict)  # flows already on the server

    def of(self, action: Action) -> list[DeploymentChange]:
        return [c for c in self.changes if c.action is action]

    @property
    def has_changes(self) -> bool:
        return any(c.action in WRITES for c in self.changes)


def ownership_marker(project: str, environment: str) -> str:
    """The tag that marks a deployment as managed by this project and environment."""
    return f"flowfleet:{project}/{environment}"


def build_plan(
    project: str,
    environment: str,
    desired: Sequence[Deployment],
    live: LiveState,
    *,
    prune: bool = False,
    adopt: bool = False,
) -> Plan:
    """Compare desired with live; `desired` already carries the ownership marker tag."""
    marker = ownership_marker(project, environment)
    by_key = {d.key: d for d in live.deployments}
    changes = [_change(d, by_key.get(d.key), marker, adopt) for d in desired]
    declared = {d.key for d in desired}
    owned_undeclared = sorted(
        (d for d in live.deployments if marker in d.deployment.tags and d.key not in declared),
        key=lambda d: d.key,
    )
    orphans: tuple[str, ...] = ()
    protected: list[str] = []
    if prune:
        changes += [
            DeploymentChange(
                Action.DELETE, d.key, live=d, reason="no longer declared", kind=DEPLOYMENT
            )
            for d in owned_undeclared
            if PROTECTED_TAG not in d.deployment.tags
        ]
        protected = [
            _protected_error(d) for d in owned_undeclared if PROTECTED_TAG in d.deployment.tags
        ]
    else:
        orphans = tuple(d.deployment.full_name for d in owned_undeclared)
    return Plan(
        project=project,
        environment=environment,
        marker=marker,
        changes=tuple(changes),
        errors=(*_missing_pools(desired, live), *protected),
        orphans=orphans,
        flow_ids=dict(live.flows),
    )


def _change(
    desired: Deployment, live: LiveDeployment | None, marker: str, adopt: bool
) -> DeploymentChange:
    if live is None:
        return DeploymentChange(Action.CREATE, desired.key, desired=desired, kind=DEPLOYMENT)
    if marker not in live.deployment.tags and not adopt:
        return DeploymentChange(
            Action.CONFLICT,
            desired.key,
            desired=desired,
            live=live,
            reason="exists on the server without this project's marker "
            f"'{marker}'; left alone (pass --adopt to take it over)",
            kind=DEPLOYMENT,
        )
    diffs = tuple(diff_fields(desired, live.deployment))
    action = Action.UPDATE if diffs else Action.UNCHANGED
    return DeploymentChange(
        action, desired.key, desired=desired, live=live, fields=diffs, kind=DEPLOYMENT
    )


def diff_fields(desired: Deployment, live: Deployment) -> Iterable[FieldChange]:
    """The managed fields whose normalised values differ (secret env values masked); a
    renamed schedule is one change of its own, `schedules[OLD].slug`, before `schedules`."""
    for name in COMPARED_FIELDS:
        if name == "schedules":
            for old, new_slug in schedule_renames(desired, live).items():
                yield FieldChange(rename_field(old), old, new_slug)
        new = comparable(name, desired)
        old = comparable(name, live, reference=desired)
        if new != old:
            if name == "job_variables":
                old, new = mask_env_change(old, new, desired.secret_env)
            yield FieldChange(name, old, new)


def rename_field(old_slug: str) -> str:
    """The plan's name of a schedule rename: `schedules[OLD].slug`."""
    return f"schedules[{old_slug}].slug"


def is_rename(field: str) -> bool:
    """Whether a changed field's name is a schedule rename's (see rename_field)."""
    return field.startswith("schedules[") and field.endswith("].slug")


def changes_schedules(fields: Iterable[str]) -> bool:
    """Whether a change's fields touch the schedules (changed, added, removed, renamed)."""
    return any(f == "schedules" or is_rename(f) for f in fields)


def _protected_error(live: LiveDeployment) -> str:
    return (
        f"deployment '{live.deployment.full_name}' is protected (tag '{PROTECTED_TAG}') and "
        "--prune would delete it; to delete it, declare it again with `protected: false`, "
        "apply, then remove it from the config"
    )


def _missing_pools(desired: Sequence[Deployment], live: LiveState) -> Iterable[str]:
    used: dict[str, list[str]] = {}
    for d in desired:
        if d.work_pool_name:
            used.setdefault(d.work_pool_name, []).append(d.full_name)
    for pool in sorted(set(used) - live.work_pools):
        names = used[pool]
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        yield (
            f"work pool '{pool}' does not exist on the server (used by {names[0]}{more}); "
            "create it (e.g. `prefect work-pool create`) or fix the name"
        )
