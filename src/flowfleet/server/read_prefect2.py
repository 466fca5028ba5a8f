"""Read a Prefect 2.x server for `flowfleet export`: its deployments, the infrastructure
and storage blocks they name, their work pools and work queues. Read-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowfleet.server import wire
from flowfleet.server.api import Api


@dataclass(frozen=True)
class Prefect2State:
    """The deployments (with their flow's name), and what they refer to, by id or name."""

    deployments: tuple[tuple[str, wire.Prefect2Deployment], ...]
    blocks: dict[str, wire.BlockDocument]
    pools: dict[str, wire.WorkPoolResponse]
    queues: dict[str, wire.WorkQueueResponse]


async def read_prefect2(api: Api, flows: Sequence[str]) -> Prefect2State:
    """Every deployment (of `flows`, when given), sorted by (flow, name)."""
    by_name = wire.FlowFilter(name=wire.AnyOf(any_=sorted(set(flows))))
    body = wire.FlowsFilter(flows=by_name) if flows else wire.FlowsFilter()
    names = {f.id: f.name for f in await api.read_all("/flows/filter", body, wire.Flow)}
    by_id = wire.FlowFilter(id=wire.AnyOf(any_=sorted(names)))
    query = wire.DeploymentsFilter(flows=by_id) if flows else wire.DeploymentsFilter()
    found = (
        await api.read_all("/deployments/filter", query, wire.Prefect2Deployment) if names else []
    )
    deployments = sorted(
        ((names.get(d.flow_id, "?"), d) for d in found), key=lambda x: (x[0], x[1].name)
    )
    ids = {
        i
        for _, d in deployments
        for i in (d.infrastructure_document_id, d.storage_document_id)
        if i
    }
    blocks = {}
    for block_id in sorted(ids):
        data = await api.call("GET", f"/block_documents/{block_id}")
        blocks[block_id] = wire.BlockDocument.model_validate(data)
    used = {d.work_pool_name for _, d in deployments if d.work_pool_name}
    pools = await api.read_all(
        "/work_pools/filter", wire.work_pools_named(used), wire.WorkPoolResponse
    )
    queues = await api.read_all(
        "/work_queues/filter", wire.WorkQueuesFilter(), wire.WorkQueueResponse
    )
    used_queues = {d.work_queue_name for _, d in deployments}
    return Prefect2State(
        tuple(deployments),
        blocks,
        {p.name: p for p in pools},
        {q.name: q for q in queues if q.name in used_queues},
    )
