"""Read an environment's live state: the only code that reads Prefect.

Few calls, each a paged `/filter` request: every deployment carrying this project's
marker, then the other deployments of the declared flows (name collisions), with the
flows, work pools and the server's version (see flowfleet.server_features) read alongside.
Each deployment is read once: the server spends milliseconds on every schedule it returns
(Prefect 3.8.8 lists the time zones on disk for each one), so reading a deployment twice
costs as much as reading twice as many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from flowfleet.api import Api, ApiError
from flowfleet.resources import Deployment, LiveDeployment, LiveState, Schedule


async def read_live(
    api: Api, flow_names: Iterable[str], marker: str, pools: Iterable[str]
) -> LiveState:
    """The live state relevant to a plan for one environment."""
    names = sorted(set(flow_names))
    owned, flows, live_pools, version = await asyncio.gather(
        api.read_all("/deployments/filter", {"deployments": {"tags": {"all_": [marker]}}}),
        api.read_all("/flows/filter", {"flows": {"name": {"any_": names}}}),
        api.read_all("/work_pools/filter", {"work_pools": {"name": {"any_": sorted(set(pools))}}}),
        read_server_version(api),
    )
    others = await api.read_all(
        "/deployments/filter",
        {
            "flows": {"name": {"any_": names}},
            "deployments": {"id": {"not_any_": [d["id"] for d in owned]}},
        },
    )
    deployments = {d["id"]: d for d in [*owned, *others]}
    flow_names_by_id = {f["id"]: f["name"] for f in flows}
    missing = sorted({d["flow_id"] for d in deployments.values()} - flow_names_by_id.keys())
    if missing:
        extra = await api.read_all("/flows/filter", {"flows": {"id": {"any_": missing}}})
        flow_names_by_id.update({f["id"]: f["name"] for f in extra})
    return LiveState(
        deployments=tuple(
            parse_deployment(d, flow_names_by_id.get(d["flow_id"], "?"))
            for d in deployments.values()
        ),
        flows={f["name"]: f["id"] for f in flows},
        work_pools=frozenset(p["name"] for p in live_pools),
        server_version=version,
    )


async def read_server_version(api: Api) -> str | None:
    """The server's Prefect version, or None where the server does not say (a 404 or 403
    from a proxy or a hosted API): features are then not gated."""
    try:
        version = await api.call("GET", "/admin/version")
    except ApiError as error:
        if error.status in (403, 404):
            return None
        raise
    return version if isinstance(version, str) else None


def parse_deployment(data: dict[str, Any], flow_name: str) -> LiveDeployment:
    """A deployment as the server returns it → the terms of the desired state."""
    schedules = [_schedule(s) for s in data.get("schedules") or []]
    limit = data.get("global_concurrency_limit") or {}
    deployment = Deployment(
        flow_name=flow_name,
        name=data["name"],
        entrypoint=data.get("entrypoint") or "",
        parameters=data.get("parameters") or {},
        schedules=tuple(s for s, _ in schedules),
        tags=tuple(data.get("tags") or ()),
        version=data.get("version"),
        description=data.get("description"),
        work_pool_name=data.get("work_pool_name"),
        work_queue_name=data.get("work_queue_name"),
        job_variables=data.get("job_variables") or {},
        pull_steps=tuple(data["pull_steps"]) if data.get("pull_steps") is not None else None,
        paused=bool(data.get("paused")),
        concurrency_limit=limit.get("limit", data.get("concurrency_limit")),
        enforce_parameter_schema=bool(data.get("enforce_parameter_schema")),
        parameter_openapi_schema=data.get("parameter_openapi_schema"),
    )
    return LiveDeployment(
        id=data["id"],
        flow_id=data["flow_id"],
        updated=data.get("updated"),
        deployment=deployment,
        schedule_ids={s.slug: sid for s, sid in schedules},
    )


def _schedule(data: dict[str, Any]) -> tuple[Schedule, str]:
    spec = data.get("schedule") or {}
    slug = data.get("slug") or f"(no slug) {data['id']}"
    schedule = Schedule(
        slug=slug,
        cron=spec.get("cron"),
        interval=spec.get("interval"),
        rrule=spec.get("rrule"),
        timezone=spec.get("timezone") or "UTC",
        anchor_date=spec.get("anchor_date"),
        day_or=spec.get("day_or"),
        active=bool(data.get("active", True)),
        parameters=data.get("parameters") or {},
        max_scheduled_runs=data.get("max_scheduled_runs"),
    )
    return schedule, data["id"]
