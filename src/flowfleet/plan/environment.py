"""One environment's plan: deployments and infrastructure, with what it was planned
against (the target, and the fingerprint a saved plan is checked with). Pure data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowfleet.errors import PlanError
from flowfleet.model.target import Target
from flowfleet.plan.automations import AutomationChange
from flowfleet.plan.change import WRITES, Action, AnyChange, FieldChange
from flowfleet.plan.deployments import Plan
from flowfleet.plan.infrastructure import InfraPlan
from flowfleet.render.validate import Desired

Hashes = dict[str, str]


@dataclass(frozen=True)
class Fingerprint:
    """One hash per desired object and per live object of one environment's plan."""

    desired: Hashes = field(default_factory=dict)
    live: Hashes = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentPlan:
    desired: Desired
    target: Target
    plan: Plan
    infra: InfraPlan = field(default_factory=InfraPlan)
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    server_errors: tuple[str, ...] = ()  # what the config asks that the server lacks
    automations: tuple[AutomationChange, ...] = ()  # applied after the deployments

    @property
    def has_changes(self) -> bool:
        automations = any(c.action in WRITES for c in self.automations)
        return self.plan.has_changes or self.infra.has_changes or automations

    @property
    def errors(self) -> tuple[str, ...]:
        return (*self.server_errors, *self.infra.errors, *self.plan.errors)

    @property
    def deletes(self) -> int:
        """Deployments and infrastructure resources the plan deletes."""
        infra = [c for c in (*self.infra.changes, *self.automations) if c.action is Action.DELETE]
        return len(self.plan.of(Action.DELETE)) + len(infra)


def check_applicable(
    plans: Sequence[EnvironmentPlan], max_deletes: int | None, *, option: str = "max_deletes"
) -> None:
    """Refuse (PlanError) plans with errors, then plans that delete more than
    `max_deletes` (None: no limit) deployments and resources; `option` is how the caller
    names that limit (`--max-deletes` on the command line)."""
    errors = [f"{p.plan.environment}: {e}" for p in plans for e in p.errors]
    if errors:
        raise PlanError(errors)
    too_many = [
        f"{p.plan.environment}: the plan deletes {p.deletes} deployments and resources, more "
        f"than {option} {max_deletes}; check the plan, then raise {option}"
        for p in plans
        if max_deletes is not None and p.deletes > max_deletes
    ]
    if too_many:
        raise PlanError(too_many, "\n".join(too_many))


def changes_of(planned: EnvironmentPlan) -> list[AnyChange]:
    """In the order they are applied: infrastructure, deployments, automations (deletes
    of infrastructure come last, but are listed with it)."""
    return [*planned.infra.changes, *planned.plan.changes, *planned.automations]


def counts(planned: EnvironmentPlan) -> dict[str, int]:
    actions = [c.action for c in changes_of(planned)]
    return {a.value: actions.count(a) for a in Action}


def plan_summary(p: EnvironmentPlan) -> dict[str, Any]:
    """The plan of one environment as JSON data (`plan --json`, saved plans)."""
    return {
        "project": p.plan.project,
        "environment": p.plan.environment,
        "api_url": p.target.url,
        "has_changes": p.has_changes,
        "counts": counts(p),
        "errors": list(p.errors),
        "orphans": list(p.plan.orphans),
        "changes": [_change_json(c) for c in changes_of(p)],
    }


def _change_json(change: AnyChange) -> dict[str, Any]:
    names = (
        {"flow": change.key[0], "deployment": change.key[1]}
        if change.is_deployment
        else {"kind": change.kind, "name": change.key[1]}
    )
    return {
        "action": change.action.value,
        **names,
        "fields": [_field_json(f) for f in change.fields],
        "reason": change.reason or None,
    }


def _field_json(f: FieldChange) -> dict[str, Any]:
    return {"field": f.field, "old": f.old, "new": f.new}
