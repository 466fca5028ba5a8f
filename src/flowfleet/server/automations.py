"""Read automations, and find the ids of what their actions refer to by name."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flowfleet.model.resources import REFERENCES
from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError, Item

Ref = tuple[str, str]  # (deployment, work_pool, work_queue, automation or block; its name)


async def read_automations(api: Api, marker: str, names: Collection[str]) -> list[dict[str, Any]]:
    """The automations carrying `marker`, and those named `names` (owned or not), as the
    server's JSON, oldest first."""
    bodies = [wire.AutomationFilter(tags=wire.AllOf(all_=[marker]))]
    if names:
        bodies.append(wire.AutomationFilter(name=wire.AnyOf(any_=sorted(set(names)))))
    pages = await asyncio.gather(
        *(
            api.read_all(
                "/automations/filter", wire.AutomationsFilter(automations=b), wire.Automation
            )
            for b in bodies
        )
    )
    found = {a.id: a for page in pages for a in page}
    return [a.model_dump() for a in sorted(found.values(), key=lambda a: (a.updated or "", a.id))]


async def resolve(api: Api, refs: Collection[Ref]) -> dict[Ref, str]:
    """The id of each reference that exists on the server (absent ones are left out)."""

    async def one(ref: Ref) -> tuple[Ref, str | None]:
        try:
            return ref, await _id_of(api, *ref)
        except ApiError as exc:
            if exc.status in (404, 422):
                return ref, None
            raise

    found = await asyncio.gather(*(one(r) for r in sorted(set(refs))))
    return {ref: id_ for ref, id_ in found if id_ is not None}


async def _id_of(api: Api, kind: str, name: str) -> str | None:
    if kind == "automation":
        body = wire.AutomationsFilter(
            automations=wire.AutomationFilter(name=wire.AnyOf(any_=[name]))
        )
        found = await api.call("POST", "/automations/filter", body)
        return str(found[0]["id"]) if found else None
    first, _, second = name.partition("/")
    if kind in ("deployment", "work_queue", "block") and not second:
        return None  # `flow/deployment`, `pool/queue`, `type/name`
    paths = {
        "deployment": f"/deployments/name/{quote(first)}/{quote(second)}",
        "work_pool": f"/work_pools/{quote(name)}",
        "work_queue": f"/work_pools/{quote(first)}/queues/{quote(second)}",
        "block": f"/block_types/slug/{quote(first)}/block_documents/name/{quote(second)}",
    }
    return str((await api.call("GET", paths[kind]))["id"])


def with_ids(actions: Sequence[Mapping[str, Any]], ids: Mapping[Ref, str]) -> list[dict[str, Any]]:
    """Actions as the server takes them: each reference by name replaced by its id."""
    result = []
    for action in actions:
        sent = dict(action)
        for id_key, ref in REFERENCES.items():
            if ref in sent:
                name = sent.pop(ref)
                sent[id_key] = None if name is None else ids[(ref, name)]
        result.append(sent)
    return result


async def read_every_automation(api: Api) -> list[dict[str, Any]]:
    """Every automation on the server, as the server's JSON, by name."""
    found = await api.read_all("/automations/filter", wire.AutomationsFilter(), wire.Automation)
    return [a.model_dump() for a in sorted(found, key=lambda a: (a.name, a.id))]


def referred_ids(automations: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The ids the automations' actions refer to, by what they are (deployment, ...)."""
    wanted: dict[str, set[str]] = {ref: set() for ref in REFERENCES.values()}
    for automation in automations:
        for field in ("actions", "actions_on_trigger", "actions_on_resolve"):
            for action in automation.get(field) or ():
                for id_key, ref in REFERENCES.items():
                    if action.get(id_key):
                        wanted[ref].add(str(action[id_key]))
    return wanted


async def reference_names(
    api: Api, automations: Sequence[Mapping[str, Any]], known: Mapping[str, str]
) -> dict[str, str]:
    """id → name, in the config's terms (`flow/name`, `pool/queue`, `type/name`), of what
    the automations refer to and the server has; `known` ids are not read again."""
    wanted = {ref: ids - known.keys() for ref, ids in referred_ids(automations).items()}
    deployments, queues, blocks, pools = await asyncio.gather(
        _each(api, "/deployments/", wanted["deployment"], wire.DeploymentResponse),
        _each(api, "/work_queues/", wanted["work_queue"], wire.WorkQueueResponse),
        _each(api, "/block_documents/", wanted["block"], wire.BlockDocument),
        _pools(api, wanted["work_pool"]),
    )
    flows = await _flow_names(api, {d.flow_id for d in deployments})
    names = {**known, **pools, **{str(a["id"]): str(a["name"]) for a in automations}}
    names |= {d.id: f"{flows[d.flow_id]}/{d.name}" for d in deployments if d.flow_id in flows}
    names |= {q.id: f"{q.work_pool_name}/{q.name}" for q in queues if q.work_pool_name}
    names |= {b.id: f"{b.block_type.slug}/{b.name}" for b in blocks if b.block_type}
    return names


async def _each(api: Api, path: str, ids: Collection[str], model: type[Item]) -> list[Item]:
    """The objects of these ids that the server has (GET `path` + id)."""

    async def one(id_: str) -> Item | None:
        try:
            return model.model_validate(await api.call("GET", path + quote(id_)))
        except ApiError as exc:
            if exc.status in (404, 422):
                return None
            raise

    found = await asyncio.gather(*(one(i) for i in sorted(ids)))
    return [item for item in found if item is not None]


async def _pools(api: Api, ids: Collection[str]) -> dict[str, str]:
    if not ids:
        return {}
    body = wire.WorkPoolsFilter(work_pools=wire.WorkPoolFilter(id=wire.AnyOf(any_=sorted(ids))))
    found = await api.read_all("/work_pools/filter", body, wire.WorkPoolResponse)
    return {p.id: p.name for p in found}


async def _flow_names(api: Api, ids: Collection[str]) -> dict[str, str]:
    if not ids:
        return {}
    body = wire.FlowsFilter(flows=wire.FlowFilter(id=wire.AnyOf(any_=sorted(ids))))
    return {f.id: f.name for f in await api.read_all("/flows/filter", body, wire.Flow)}
