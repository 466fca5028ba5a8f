"""Read the deployments a plan compares against: those carrying a marker, with their
flows and work pools. (The infrastructure is read by `read_infra`, the ownership list by
`ledger`; `export` reads a server with its own filters.)

Few calls, each a paged `/filter` request: every deployment carrying this project's
marker, then, by name, the declared deployments not among them (to take over, or name
collisions), with the flows, work pools and the server's version (see
flowfleet.plan.features) read alongside.
Each deployment is read once: the server spends
milliseconds on every schedule it returns (Prefect 3.8.8 lists the time zones on disk for
each one), so reading a deployment twice costs as much as reading twice as many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.model.resources import (
    ConcurrencyOptions,
    Deployment,
    LiveDeployment,
    LiveState,
    Schedule,
)
from flowfleet.model.target import Target
from flowfleet.model.versions import OLDEST_SERVER, parse_version, version_text
from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError
from flowfleet.server.early import take_deployments


async def read_live(
    api: Api, declared: Iterable[tuple[str, str]], marker: str, pools: Iterable[str]
) -> LiveState:
    """The live state relevant to a plan for one environment: the deployments carrying
    `marker`, and those of the `declared` ones ((flow, name)) that do not carry it."""
    keys = set(declared)
    names = sorted({flow for flow, _ in keys})
    of_flows = wire.FlowFilter(name=wire.AnyOf(any_=names))
    early = await take_deployments((api.target.url, marker))
    version, owned = (early.version, early.owned) if early else await read_early(api, marker)
    flows, live_pools = await asyncio.gather(
        api.read_all("/flows/filter", wire.FlowsFilter(flows=of_flows), wire.Flow),
        api.read_all("/work_pools/filter", wire.work_pools_named(pools), wire.WorkPoolResponse),
    )
    flow_names_by_id = {f.id: f.name for f in flows}
    others = await _unowned(api, keys, owned, flow_names_by_id)
    deployments = {d.id: d for d in [*owned, *others]}
    missing = sorted({d.flow_id for d in deployments.values()} - flow_names_by_id.keys())
    if missing:
        by_id = wire.FlowsFilter(flows=wire.FlowFilter(id=wire.AnyOf(any_=missing)))
        extra = await api.read_all("/flows/filter", by_id, wire.Flow)
        flow_names_by_id.update({f.id: f.name for f in extra})
    return LiveState(
        deployments=tuple(
            parse_deployment(d, flow_names_by_id.get(d.flow_id, "?")) for d in deployments.values()
        ),
        flows={f.name: f.id for f in flows},
        work_pools=frozenset(p.name for p in live_pools),
        server_version=version,
    )


class ServerTooOld(FlowfleetError):
    """The environment's server runs a Prefect older than flowfleet supports."""


def refuse_too_old(target: Target, version: str | None) -> None:
    """ServerTooOld if `version` is older than the oldest supported server (an unknown
    version, e.g. behind a proxy that hides it, is let through)."""
    parsed = parse_version(version)
    if parsed is not None and parsed < OLDEST_SERVER:
        raise ServerTooOld(
            f"environment '{target.environment}' ({target.url}) runs Prefect {version}; "
            f"flowfleet plans and applies against Prefect {version_text(OLDEST_SERVER)} or "
            "newer servers (docs/compatibility.md): upgrade the server (nothing was written)"
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


async def read_early(api: Api, marker: str) -> tuple[str | None, list[wire.DeploymentResponse]]:
    """The server's version (refusing one too old) and the deployments carrying
    `marker`: what flowfleet.server.early reads while the config is validated."""
    version = await read_server_version(api)
    refuse_too_old(api.target, version)
    marked = wire.DeploymentFilter(tags=wire.AllOf(all_=[marker]))
    return version, await _deployments(api, wire.DeploymentsFilter(deployments=marked))


async def _unowned(
    api: Api,
    declared: set[tuple[str, str]],
    owned: list[wire.DeploymentResponse],
    flow_names_by_id: dict[str, str],
) -> list[wire.DeploymentResponse]:
    """The declared deployments that are on the server without the marker (to take over,
    or conflicts): looked for by name, only if some declared one is not among the owned
    (an unchanged plan sends no request for them)."""
    owned_keys = {(flow_names_by_id.get(d.flow_id), d.name) for d in owned}
    missing = declared - owned_keys
    if not missing:
        return []
    flows = wire.FlowFilter(name=wire.AnyOf(any_=sorted({flow for flow, _ in missing})))
    named = wire.DeploymentFilter(name=wire.AnyOf(any_=sorted({name for _, name in missing})))
    found = await _deployments(api, wire.DeploymentsFilter(flows=flows, deployments=named))
    owned_ids = {d.id for d in owned}
    return [d for d in found if d.id not in owned_ids]


async def _deployments(api: Api, body: wire.DeploymentsFilter) -> list[wire.DeploymentResponse]:
    return await api.read_all("/deployments/filter", body, wire.DeploymentResponse)


def parse_deployment(data: wire.DeploymentResponse, flow_name: str) -> LiveDeployment:
    """A deployment as the server returns it → the terms of the desired state."""
    schedules = [_schedule(s) for s in data.schedules or []]
    # Prefect 3.4 answers `concurrency_limit: null`, with the limit only here.
    limit = data.global_concurrency_limit
    deployment = Deployment(
        flow_name=flow_name,
        name=data.name,
        entrypoint=data.entrypoint or "",
        parameters=data.parameters or {},
        schedules=tuple(s for s, _ in schedules),
        tags=tuple(data.tags or ()),
        version=data.version,
        description=data.description,
        work_pool_name=data.work_pool_name,
        work_queue_name=data.work_queue_name,
        job_variables=data.job_variables or {},
        pull_steps=tuple(data.pull_steps) if data.pull_steps is not None else None,
        paused=bool(data.paused),
        concurrency_limit=limit.limit if limit is not None else data.concurrency_limit,
        concurrency_options=_concurrency_options(data.concurrency_options),
        enforce_parameter_schema=bool(data.enforce_parameter_schema),
        parameter_openapi_schema=data.parameter_openapi_schema,
    )
    return LiveDeployment(
        id=data.id,
        flow_id=data.flow_id,
        updated=data.updated,
        deployment=deployment,
        schedule_ids={s.slug: sid for s, sid in schedules},
    )


def _concurrency_options(
    data: wire.DeploymentConcurrencyOptions | None,
) -> ConcurrencyOptions | None:
    if data is None or data.collision_strategy is None:
        return None
    return ConcurrencyOptions(
        collision_strategy=data.collision_strategy, grace_period_seconds=data.grace_period_seconds
    )


def _schedule(data: wire.DeploymentSchedule) -> tuple[Schedule, str]:
    schedule = schedule_from(
        data.schedule or wire.ScheduleSpec(),
        slug=data.slug or f"(no slug) {data.id}",
        active=data.active,
        parameters=data.parameters or {},
        max_scheduled_runs=data.max_scheduled_runs,
    )
    return schedule, data.id


def schedule_from(spec: wire.ScheduleSpec, **rest: Any) -> Schedule:
    """A schedule's spec as a server stores it (Prefect 2 or 3) in the terms of the
    config; `rest` gives the fields kept beside the spec (slug, active, ...)."""
    return Schedule(
        cron=spec.cron,
        interval=spec.interval,
        rrule=spec.rrule,
        timezone=spec.timezone or "UTC",
        anchor_date=spec.anchor_date,
        day_or=spec.day_or,
        **rest,
    )
