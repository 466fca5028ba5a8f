"""Apply infrastructure changes: one small handler per kind and action.

Updates (PATCH by name or id) and deletes are safe to repeat. A create is not: retried
after its answer was lost, it is answered 409 because the first attempt made it. So each
create carries a look-up (see Api.call): the item read back by name, as the planner reads
it, counts as this create's own when it has every field the config declares.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flowfleet.apply.automations import apply_automation_change
from flowfleet.model.items import AUTOMATION_KINDS, Item
from flowfleet.plan.change import Action
from flowfleet.plan.infrastructure import InfraChange
from flowfleet.plan.items import differing
from flowfleet.server import wire
from flowfleet.server.api import Api, Lookup
from flowfleet.server.blocks import block_type_ids
from flowfleet.server.read_infra import read_infrastructure


async def apply_infra_change(api: Api, change: InfraChange) -> None:
    """Create, update or delete one resource (conflicts and unchanged ones: nothing)."""
    kind = change.kind
    if kind in AUTOMATION_KINDS:
        await apply_automation_change(api, change)
    elif change.action is Action.CREATE:
        assert change.desired is not None
        await _CREATE[kind](api, change.desired)
    elif change.action is Action.UPDATE:
        assert change.desired is not None and change.live is not None
        changed = {f.field for f in change.fields}
        await _UPDATE[kind](api, change.desired, change.live, changed)
    elif change.action is Action.DELETE:
        assert change.live is not None
        await _delete(api, change.live)


def created_as_declared(api: Api, item: Item) -> Lookup:
    """The look-up of a create: `item` as the server holds it, if it is as declared."""

    async def lookup() -> dict[str, Any] | None:
        keys = {item.key}
        if item.kind == "work_queue":  # queues are read through their pool
            keys.add(("work_pool", item.name.partition("/")[0]))
        live = (await read_infrastructure(api, keys)).get(item.key)
        if live is None or differing(item, live):
            return None
        return {"id": live.id}

    return lookup


def _pool_and_queue(item: Item) -> tuple[str, str]:
    pool, _, queue = item.name.partition("/")
    return quote(pool), queue


async def _create_pool(api: Api, item: Item) -> None:
    body = wire.WorkPoolCreate(name=item.name, **item.fields)
    await api.call("POST", "/work_pools/", body, lookup=created_as_declared(api, item))


async def _update_pool(api: Api, item: Item, live: Item, changed: set[str]) -> None:
    body = {k: v for k, v in item.fields.items() if k in changed and k != "type"}
    await api.call("PATCH", f"/work_pools/{quote(item.name)}", wire.WorkPoolUpdate(**body))


async def _create_queue(api: Api, item: Item) -> None:
    pool, queue = _pool_and_queue(item)
    body = {k: v for k, v in item.fields.items() if v is not None}
    await api.call(
        "POST",
        f"/work_pools/{pool}/queues",
        wire.WorkQueueCreate(name=queue, **body),
        lookup=created_as_declared(api, item),
    )


async def _update_queue(api: Api, item: Item, live: Item, changed: set[str]) -> None:
    pool, queue = _pool_and_queue(item)
    body = wire.WorkQueueUpdate(**{k: v for k, v in item.fields.items() if k in changed})
    await api.call("PATCH", f"/work_pools/{pool}/queues/{quote(queue)}", body)


async def _create_variable(api: Api, item: Item) -> None:
    body = wire.VariableCreate(name=item.name, **item.fields)
    await api.call("POST", "/variables/", body, lookup=created_as_declared(api, item))


async def _update_variable(api: Api, item: Item, live: Item, changed: set[str]) -> None:
    body = wire.VariableUpdate(**item.fields)
    await api.call("PATCH", f"/variables/name/{quote(item.name)}", body)


async def _create_limit(api: Api, item: Item) -> None:
    body = wire.ConcurrencyLimitV2Create(name=item.name, **item.fields)
    await api.call("POST", "/v2/concurrency_limits/", body, lookup=created_as_declared(api, item))


async def _update_limit(api: Api, item: Item, live: Item, changed: set[str]) -> None:
    body = wire.ConcurrencyLimitV2Update(**{k: v for k, v in item.fields.items() if k in changed})
    await api.call("PATCH", f"/v2/concurrency_limits/{quote(item.name)}", body)


async def _create_block(api: Api, item: Item) -> None:
    type_id, schema_id = await block_type_ids(api, item.fields["type"])
    name = item.name.partition("/")[2]
    body = wire.BlockDocumentCreate(
        name=name, data=item.fields["data"], block_type_id=type_id, block_schema_id=schema_id
    )
    await api.call("POST", "/block_documents/", body, lookup=created_as_declared(api, item))


async def _update_block(api: Api, item: Item, live: Item, changed: set[str]) -> None:
    body = wire.BlockDocumentUpdate(data=item.fields["data"], merge_existing_data=False)
    await api.call("PATCH", f"/block_documents/{live.id}", body)


async def _delete(api: Api, live: Item) -> None:
    paths = {
        "work_pool": f"/work_pools/{quote(live.name)}",
        "work_queue": f"/work_queues/{live.id}",
        "variable": f"/variables/name/{quote(live.name)}",
        "concurrency_limit": f"/v2/concurrency_limits/{quote(live.name)}",
        "block": f"/block_documents/{live.id}",
    }
    await api.call("DELETE", paths[live.kind])


_CREATE: dict[str, Any] = {
    "work_pool": _create_pool,
    "work_queue": _create_queue,
    "variable": _create_variable,
    "concurrency_limit": _create_limit,
    "block": _create_block,
}
_UPDATE: dict[str, Any] = {
    "work_pool": _update_pool,
    "work_queue": _update_queue,
    "variable": _update_variable,
    "concurrency_limit": _update_limit,
    "block": _update_block,
}
