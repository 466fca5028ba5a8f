"""A Prefect 2.x server's deployments → flowfleet.yaml data for Prefect 3. Pure.

Each deployment keeps its name, flow, entrypoint, parameters, tags, version, description
and work queue; `schedule` (or 2.19+'s `schedules`) becomes `schedules`; `infra_overrides`
become `job_variables`. The `ecs-task` block its `infrastructure_document_id` names
becomes an `ecs` work pool (`ecs-<block>`, made as `flowfleet import` makes it from the
block file) that the deployment uses; a deployment on a Prefect 2 worker's pool keeps it.
Storage becomes pull steps where Prefect 3 has a step for it; anything else is a warning.
"""

from __future__ import annotations

from typing import Any

from flowfleet.interop.export import (
    DefaultTemplate,
    _factor_defaults,
    _pool_name,
    deployment_entry,
    pool_entry,
)
from flowfleet.interop.legacy.ecs_pool import OnServer, ecs_pool
from flowfleet.interop.legacy.pools import pool_for
from flowfleet.interop.legacy.server_blocks import block_fields
from flowfleet.model.resources import Deployment, Schedule
from flowfleet.server import wire
from flowfleet.server.read import schedule_from
from flowfleet.server.read_prefect2 import Prefect2State

AGENT_POOL = "default-agent-pool"  # where Prefect 2 puts the queues agents poll
STORAGE_STEPS = {  # storage block type → (pull step, its fields from the block's data)
    "github": (
        "prefect.deployments.steps.git_clone",
        {"repository": "repository", "branch": "reference"},
    ),
    "s3-bucket": (
        "prefect_aws.deployments.steps.pull_from_s3",
        {"bucket": "bucket_name", "folder": "bucket_folder"},
    ),
}


def export_prefect2_config(
    project: str,
    environment: str,
    connection: dict[str, Any],
    state: Prefect2State,
    ecs_template: dict[str, Any],
    default_template: DefaultTemplate,
    *,
    url: str,
) -> tuple[dict[str, Any], list[str]]:
    """flowfleet.yaml data (keys in the order they are written) and warnings; `url` is
    the server's, named with the environment in the warnings about its blocks."""
    place = OnServer(environment, url)
    warnings: list[str] = []
    pools: dict[str, dict[str, Any]] = {}
    deployments = []
    for flow, data in state.deployments:
        if not data.entrypoint:
            warnings.append(
                f"{flow}/{data.name}: skipped: it has no entrypoint (a Prefect 2 deployment "
                "made without `deployment build`, e.g. from a manifest); declare it by hand"
            )
            continue
        pool = _infrastructure_pool(flow, data, state, ecs_template, pools, warnings, place)
        steps = _pull_steps(flow, data, state, warnings, place)
        deployments.append(_deployment(flow, data, pool, steps))
    entries = [deployment_entry(d) for d in deployments]
    defaults = _factor_defaults(entries)
    config: dict[str, Any] = {"project": project}
    if defaults:
        config["defaults"] = defaults
    config["environments"] = {environment: connection}
    for name in sorted({n for e in entries if (n := _pool_name(e, defaults))} - set(pools)):
        if name in state.pools:
            pools[name] = pool_entry(state.pools[name], default_template)
    _queues(deployments, state, pools)
    if pools:
        config["work_pools"] = dict(sorted(pools.items()))
    config["deployments"] = entries
    return config, warnings


def _deployment(
    flow: str, data: wire.Prefect2Deployment, pool: str | None, steps: list[dict[str, Any]] | None
) -> Deployment:
    return Deployment(
        flow_name=flow,
        name=data.name,
        entrypoint=data.entrypoint or "",
        parameters=data.parameters or {},
        schedules=_schedules(data),
        tags=tuple(data.tags or ()),
        version=data.version,
        description=data.description,
        work_pool_name=pool,
        work_queue_name=data.work_queue_name,
        job_variables=data.infra_overrides or {},
        pull_steps=tuple(steps) if steps else None,
        paused=bool(data.paused),
        enforce_parameter_schema=bool(data.enforce_parameter_schema),
    )


def _schedules(data: wire.Prefect2Deployment) -> tuple[Schedule, ...]:
    listed = [(s.schedule, s.active) for s in data.schedules or [] if s.schedule]
    if not listed and data.schedule is not None:
        listed = [(data.schedule, data.is_schedule_active is not False)]
    return tuple(
        schedule_from(
            spec,
            slug=f"(no slug) {index}",
            active=active and data.is_schedule_active is not False,
        )
        for index, (spec, active) in enumerate(listed)
    )


def _infrastructure_pool(
    flow: str,
    data: wire.Prefect2Deployment,
    state: Prefect2State,
    template: dict[str, Any],
    pools: dict[str, dict[str, Any]],
    warnings: list[str],
    place: OnServer,
) -> str | None:
    block = state.blocks.get(data.infrastructure_document_id or "")
    if block is None:
        return data.work_pool_name if data.work_pool_name != AGENT_POOL else None
    slug = block.block_type.slug if block.block_type else "?"
    name = block.name or block.id
    if slug != "ecs-task":
        warnings.append(
            f"{flow}/{data.name}: its infrastructure is a '{slug}' block ({name}) of "
            f"{place}; only "
            "ecs-task blocks become work pools: declare its work pool under work_pools: by "
            "hand and set the deployment's work_pool"
        )
        return None
    pool = pool_for(name)
    if pool not in pools:
        made = ecs_pool(name, block_fields(block, place), template)
        warnings.extend(f"{where}: {message}" for where, message in made.warnings)
        pools[pool] = made.spec
    return pool


def _pull_steps(
    flow: str,
    data: wire.Prefect2Deployment,
    state: Prefect2State,
    warnings: list[str],
    place: OnServer,
) -> list[dict[str, Any]] | None:
    if data.pull_steps:
        return data.pull_steps
    block = state.blocks.get(data.storage_document_id or "")
    if block is None:  # code in the image (or on the agent's machine), at `path`
        directory = data.path
        return (
            [{"prefect.deployments.steps.set_working_directory": {"directory": directory}}]
            if directory
            else None
        )
    slug = block.block_type.slug if block.block_type else "?"
    fields = block.data or {}
    if slug == "local-file-system" and fields.get("basepath"):
        folder = f"{str(fields['basepath']).rstrip('/')}/{data.path or ''}".rstrip("/")
        return [{"prefect.deployments.steps.set_working_directory": {"directory": folder}}]
    if slug in STORAGE_STEPS:
        step, names = STORAGE_STEPS[slug]
        values = {ours: fields[theirs] for ours, theirs in names.items() if fields.get(theirs)}
        return [{step: values}]
    warnings.append(
        f"{flow}/{data.name}: its code is in a '{slug}' storage block ({block.name}) of "
        f"{place}, which no Prefect 3 pull step reads; add pull_steps that fetch the code "
        "by hand"
    )
    return None


def _queues(
    deployments: list[Deployment], state: Prefect2State, pools: dict[str, dict[str, Any]]
) -> None:
    """The queues each pool's deployments use, with their limit and description (their
    Prefect 2 priorities ordered the agents' shared pool; they are left out)."""
    for d in deployments:
        queue = d.work_queue_name
        if not d.work_pool_name or d.work_pool_name not in pools or not queue or queue == "default":
            continue
        known = state.queues.get(queue)
        spec = {
            key: value
            for key, value in (
                ("description", known.description if known else None),
                ("concurrency_limit", known.concurrency_limit if known else None),
                ("paused", True if known and known.is_paused else None),
            )
            if value
        }
        pools[d.work_pool_name].setdefault("queues", {})[queue] = spec or None
