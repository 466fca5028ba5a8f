"""Read the live state of the infrastructure an environment declares or owns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from urllib.parse import quote

from flowfleet.model.items import Item, json_value
from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError

Key = tuple[str, str]


async def read_infrastructure(api: Api, keys: Iterable[Key]) -> dict[Key, Item]:
    """The live items among `keys` (declared or owned), by key; absent ones are left out."""
    wanted: dict[str, set[str]] = {}
    for kind, name in keys:
        wanted.setdefault(kind, set()).add(name)
    pools, variables, limits, blocks = await asyncio.gather(
        _pools(api, wanted.get("work_pool", set())),
        _variables(api, wanted.get("variable", set())),
        _limits(api, wanted.get("concurrency_limit", set())),
        _blocks(api, wanted.get("block", set())),
    )
    queue_pools = {name.split("/", 1)[0] for name in wanted.get("work_queue", set())}
    queues = await _queues(api, queue_pools & {p.name for p in pools})
    found = [*pools, *variables, *limits, *blocks, *queues]
    return {item.key: item for item in found if item.name in wanted.get(item.kind, set())}


async def known_block_types(api: Api, slugs: Iterable[str]) -> set[str]:
    """The block types (slugs) the server knows."""

    async def known(slug: str) -> str | None:
        try:
            await api.call("GET", f"/block_types/slug/{quote(slug)}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return slug

    found = await asyncio.gather(*(known(s) for s in sorted(set(slugs))))
    return {slug for slug in found if slug}


async def _pools(api: Api, names: set[str]) -> list[Item]:
    if not names:
        return []
    body = wire.work_pools_named(names)
    found = await api.read_all("/work_pools/filter", body, wire.WorkPoolResponse)
    return [live_pool(p) for p in found]


async def _queues(api: Api, pools: set[str]) -> list[Item]:
    async def of(pool: str) -> list[Item]:
        path = f"/work_pools/{quote(pool)}/queues/filter"
        found = await api.read_all(path, wire.WorkQueuesFilter(), wire.WorkQueueResponse)
        return [live_queue(pool, q) for q in found]

    return [q for queues in await asyncio.gather(*(of(p) for p in sorted(pools))) for q in queues]


async def _variables(api: Api, names: set[str]) -> list[Item]:
    if not names:
        return []
    body = wire.VariablesFilter(variables=wire.VariableFilter(name=wire.AnyOf(any_=sorted(names))))
    return [live_variable(v) for v in await api.read_all("/variables/filter", body, wire.Variable)]


async def _limits(api: Api, names: set[str]) -> list[Item]:
    if not names:
        return []
    path, body = "/v2/concurrency_limits/filter", wire.ConcurrencyLimitsFilter()
    return [live_limit(c) for c in await api.read_all(path, body, wire.GlobalConcurrencyLimit)]


async def _blocks(api: Api, names: set[str]) -> list[Item]:
    """Blocks by `type/name`, with their secret values (to compare; never printed)."""

    async def read(full_name: str) -> Item | None:
        slug, _, name = full_name.partition("/")
        path = f"/block_types/slug/{quote(slug)}/block_documents/name/{quote(name)}"
        try:
            data = await api.call("GET", f"{path}?include_secrets=true")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return live_block(slug, wire.BlockDocument.model_validate(data))

    found = await asyncio.gather(*(read(n) for n in sorted(names)))
    return [item for item in found if item is not None]


def live_pool(data: wire.WorkPoolResponse) -> Item:
    return Item(
        "work_pool",
        data.name,
        {
            "type": data.type,
            "base_job_template": json_value(data.base_job_template or {}),
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
        {"value": json_value(data.value), "tags": sorted(set(data.tags or []))},
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
        {"type": slug, "data": json_value(data.data or {})},
        id=data.id,
    )
