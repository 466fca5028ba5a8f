"""Infrastructure resources (blocks, work pools, queues, variables, concurrency limits)
as comparable items, the form in which the plan compares desired and live ones. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Applied in this order (a pool before its queues, blocks before the pools that use them;
# automations after the deployments they run); deleted in the reverse order.
KINDS = ("block", "work_pool", "work_queue", "variable", "concurrency_limit")
AUTOMATION_KINDS = ("trigger", "automation")


@dataclass(frozen=True)
class Item:
    """One resource: what kind, its name (a queue's is `pool/queue`), the compared fields."""

    kind: str
    name: str
    fields: dict[str, Any]
    id: str | None = None  # live items only
    secrets: frozenset[str] = field(default_factory=frozenset)  # fields never printed

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def json_value(value: Any) -> Any:
    """`value` as it comes back from a JSON round trip (keys sorted): what a server
    returns for what it was sent."""
    return json.loads(json.dumps(value, sort_keys=True))
