"""What a plan is made of: one `Change` per deployment or infrastructure resource. Pure data.

Deployments and resources are planned by their own planners (`deployments`,
`infrastructure`) but their changes are the same type, so the report, the JSON, saved
plans and apply treat them alike. `kind` tells them apart: "deployment", or the kind of
resource ("work_pool", "block", ...; see flowfleet.model.items.KINDS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

DEPLOYMENT = "deployment"


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"  # exists, not owned by this project/environment, no --adopt


WRITES = (Action.CREATE, Action.UPDATE, Action.DELETE)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


Desired = TypeVar("Desired")
Live = TypeVar("Live")


@dataclass(frozen=True)
class Change(Generic[Desired, Live]):
    """One deployment's or resource's fate: the action, the changed fields, and why.

    `key` is Prefect's own key: (flow name, deployment name) for a deployment, (kind,
    name) for a resource."""

    action: Action
    key: tuple[str, str]
    desired: Desired | None = None
    live: Live | None = None
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""
    kind: str = field(kw_only=True)

    @property
    def name(self) -> str:
        return f"{self.key[0]}/{self.key[1]}"

    @property
    def is_deployment(self) -> bool:
        return self.kind == DEPLOYMENT


AnyChange = Change[Any, Any]
