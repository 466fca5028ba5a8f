"""Infrastructure resources as comparable items: the desired ones from the config and
the live ones from the server, in the same normalised form. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowfleet import wire
from flowfleet.resources import (
    Block,
    ConcurrencyLimit,
    Infrastructure,
    Variable,
    WorkPool,
    WorkQueue,
)

# Applied in this order (a pool before its queues, blocks before the pools that use them);
# deleted in the reverse order, after the deployments.
KINDS = ("block", "work_pool", "work_queue", "variable", "concurrency_limit")


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


def desired_items(infra: Infrastructure, marker: str) -> list[Item]:
    """Every declared resource, in apply order."""
    return [
        *(_block(b) for b in infra.blocks),
        *(_pool(p) for p in infra.work_pools),
        *(_queue(p.name, q) for p in infra.work_pools for q in p.queues),
        *(_variable(v, marker) for v in infra.variables),
        *(_limit(c) for c in infra.concurrency_limits),
    ]


def _block(block: Block) -> Item:
    return Item(
        "block",
        f"{block.type}/{block.name}",
        {"type": block.type, "data": _json(block.fields)},
        secrets=frozenset(block.secret_fields),
    )


def _pool(pool: WorkPool) -> Item:
    return Item(
        "work_pool",
        pool.name,
        {
            "type": pool.type,
            "base_job_template": _json(pool.base_job_template),
            "description": pool.description,
            "concurrency_limit": pool.concurrency_limit,
            "is_paused": pool.paused,
        },
    )


def _queue(pool: str, queue: WorkQueue) -> Item:
    return Item(
        "work_queue",
        f"{pool}/{queue.name}",
        {
            "description": queue.description,
            "priority": queue.priority,
            "concurrency_limit": queue.concurrency_limit,
            "is_paused": queue.paused,
        },
    )


def _variable(variable: Variable, marker: str) -> Item:
    tags = sorted({*variable.tags, marker})
    return Item("variable", variable.name, {"value": _json(variable.value), "tags": tags})


def _limit(limit: ConcurrencyLimit) -> Item:
    return Item(
        "concurrency_limit",
        limit.name,
        {
            "limit": limit.limit,
            "active": limit.active,
            "slot_decay_per_second": float(limit.slot_decay_per_second or 0.0),
        },
    )


def live_pool(data: wire.WorkPoolResponse) -> Item:
    return Item(
        "work_pool",
        data.name,
        {
            "type": data.type,
            "base_job_template": _json(data.base_job_template or {}),
            "description": data.description,
            "concurrency_limit": data.concurrency_limit,
            "is_paused": bool(data.is_paused),
        },
        id=data.id,
    )


def live_queue(pool: str, data: wire.WorkQueueResponse) -> Item:
    return Item(
        "work_queue",
        f"{pool}/{data.name}",
        {
            "description": data.description or None,
            "priority": data.priority,
            "concurrency_limit": data.concurrency_limit,
            "is_paused": bool(data.is_paused),
        },
        id=data.id,
    )


def live_variable(data: wire.Variable) -> Item:
    return Item(
        "variable",
        data.name,
        {"value": _json(data.value), "tags": sorted(set(data.tags or []))},
        id=data.id,
    )


def live_limit(data: wire.GlobalConcurrencyLimit) -> Item:
    return Item(
        "concurrency_limit",
        data.name,
        {
            "limit": data.limit,
            "active": data.active,
            "slot_decay_per_second": float(data.slot_decay_per_second or 0.0),
        },
        id=data.id,
    )


def live_block(slug: str, data: wire.BlockDocument) -> Item:
    return Item(
        "block",
        f"{slug}/{data.name}",
        {"type": slug, "data": _json(data.data or {})},
        id=data.id,
    )


def differing(desired: Item, live: Item) -> list[str]:
    """The names of the fields that differ; a server default counts when the config is
    silent (a queue's priority, a description left out)."""
    names = []
    for name, value in desired.fields.items():
        if name == "priority" and value is None:
            continue  # the server numbers queues itself
        if name == "description" and value is None and not live.fields.get(name):
            continue
        if live.fields.get(name) != value:
            names.append(name)
    return names


def masked(item: Item, name: str, value: Any) -> Any:
    """A field's value for output: secret block values are replaced by stars."""
    if name != "data" or not item.secrets or not isinstance(value, dict):
        return value
    return {k: "********" if k in item.secrets else v for k, v in value.items()}


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))
