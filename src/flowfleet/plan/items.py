"""Infrastructure resources as comparable items: the desired ones from the config and
the live ones from the server, in the same normalised form. Pure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowfleet.model.items import Item, json_value
from flowfleet.model.masking import MASK
from flowfleet.model.resources import (
    Block,
    ConcurrencyLimit,
    Infrastructure,
    Variable,
    WorkPool,
    WorkQueue,
)


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
        {"type": block.type, "data": json_value(block.fields)},
        secrets=frozenset(block.secret_fields),
    )


def _pool(pool: WorkPool) -> Item:
    return Item(
        "work_pool",
        pool.name,
        {
            "type": pool.type,
            "base_job_template": json_value(pool.base_job_template),
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
    return Item("variable", variable.name, {"value": json_value(variable.value), "tags": tags})


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


def differing(desired: Item, live: Item) -> list[str]:
    """The names of the fields that differ; a server default counts when the config is
    silent (a queue's priority, a description left out)."""
    return [
        name
        for name, value in desired.fields.items()
        if not SAME.get(name, _equal)(value, live.fields.get(name))
    ]


def _equal(desired: Any, live: Any) -> bool:
    return bool(live == desired)


def _server_default(desired: Any, live: Any) -> bool:
    """Unset in the config: whatever the server chose (it numbers queues itself)."""
    return desired is None or live == desired


def _optional_text(desired: Any, live: Any) -> bool:
    return (desired is None and not live) or live == desired


# Per field: whether the desired and the live value count as the same (default: equal).
SAME: dict[str, Callable[[Any, Any], bool]] = {
    "priority": _server_default,
    "description": _optional_text,
}


def masked(item: Item, name: str, value: Any) -> Any:
    """A field's value for output: secret block values are replaced by the mask."""
    if name != "data" or not item.secrets or not isinstance(value, dict):
        return value
    return {k: MASK if k in item.secrets else v for k, v in value.items()}
