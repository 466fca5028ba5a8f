"""Read automations, and find the ids of what their actions refer to by name."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flowfleet.model.resources import REFERENCES
from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError

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
