"""How two environments' declared deployments differ. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowfleet.model.resources import COMPARED_FIELDS, Deployment
from flowfleet.plan.change import FieldChange
from flowfleet.plan.normalize import comparable

DIFFED_FIELDS = tuple(f for f in COMPARED_FIELDS if f != "parameter_openapi_schema")


@dataclass(frozen=True)
class EnvironmentDiff:
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    changed: tuple[tuple[str, tuple[FieldChange, ...]], ...]  # name → (field, a, b)

    @property
    def empty(self) -> bool:
        return not (self.only_a or self.only_b or self.changed)


def diff_environments(a: Sequence[Deployment], b: Sequence[Deployment]) -> EnvironmentDiff:
    """Deployments only in a, only in b, and the fields that differ in both."""
    by_a = {d.full_name: d for d in a}
    by_b = {d.full_name: d for d in b}
    changed = []
    for name in sorted(by_a.keys() & by_b.keys()):
        fields = tuple(
            FieldChange(f, comparable(f, by_a[name]), comparable(f, by_b[name]))
            for f in DIFFED_FIELDS
            if comparable(f, by_a[name]) != comparable(f, by_b[name])
        )
        if fields:
            changed.append((name, fields))
    return EnvironmentDiff(
        only_a=tuple(sorted(by_a.keys() - by_b.keys())),
        only_b=tuple(sorted(by_b.keys() - by_a.keys())),
        changed=tuple(changed),
    )
