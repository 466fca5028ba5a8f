"""The deployments (and the work pools they use, and the automations) on a server →
flowfleet.yaml data. Pure except `read_server`, which reads through the Api.

What is written is what flowfleet compares (see COMPARED_FIELDS), in terms the loader
reads back to the same values, so that planning the exported file with
`--adopt` changes no field: the deployments only get flowfleet's marker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowfleet.interop.export_automations import export_automations
from flowfleet.model.items import json_value
from flowfleet.model.resources import Deployment, Schedule, queue_name
from flowfleet.plan.normalize import NO_SLUG, comparable
from flowfleet.server import wire
from flowfleet.server.api import Api
from flowfleet.server.automations import read_every_automation, reference_names
from flowfleet.server.read import parse_deployment

MARKER_PREFIX = "flowfleet:"
# pool type → its default base job template (None when unknown)
DefaultTemplate = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class ServerState:
    """What an export reads: deployments sorted by (flow, name), their pools' data, and the
    automations with the names of what they refer to."""

    deployments: tuple[Deployment, ...]
    pools: dict[str, wire.WorkPoolResponse]
    ids: dict[str, str] = field(default_factory=dict)  # deployment id → `flow/name`
    automations: tuple[dict[str, Any], ...] = ()  # the server's JSON
    names: dict[str, str] = field(default_factory=dict)  # referred id → name
    some_flows: bool = False  # only the deployments of some flows were read


async def read_server(api: Api, flows: Sequence[str]) -> ServerState:
    """Every deployment on the server (of `flows`, when given), the pools they use, and
    every automation."""
    by_name = wire.FlowFilter(name=wire.AnyOf(any_=sorted(set(flows))))
    found = await api.read_all(
        "/flows/filter", wire.FlowsFilter(flows=by_name) if flows else wire.FlowsFilter(), wire.Flow
    )
    names = {f.id: f.name for f in found}
    by_id = wire.FlowFilter(id=wire.AnyOf(any_=sorted(names)))
    body = wire.DeploymentsFilter(flows=by_id) if flows else wire.DeploymentsFilter()
    data = await api.read_all("/deployments/filter", body, wire.DeploymentResponse) if names else []
    live = [parse_deployment(d, names.get(d.flow_id, "?")) for d in data]
    deployments = sorted((d.deployment for d in live), key=lambda d: d.key)
    used = {d.work_pool_name for d in deployments if d.work_pool_name}
    pools, automations = await asyncio.gather(
        api.read_all("/work_pools/filter", wire.work_pools_named(used), wire.WorkPoolResponse),
        read_every_automation(api),
    )
    every = {d.id: d.deployment.full_name for d in live}
    referred = await reference_names(api, automations, every)
    exported = {d.id: d.deployment.full_name for d in live if d.deployment.entrypoint}
    return ServerState(
        tuple(deployments),
        {p.name: p for p in pools},
        exported,
        tuple(automations),
        referred,
        some_flows=bool(flows),
    )


def export_config(
    project: str,
    environment: str,
    connection: dict[str, Any],
    state: ServerState,
    default_template: DefaultTemplate,
) -> tuple[dict[str, Any], list[str]]:
    """flowfleet.yaml data (keys in the order they are written) and warnings."""
    warnings = [
        f"{d.full_name}: skipped: it has no entrypoint (made without code, e.g. in the UI "
        "or by a script); declare it by hand"
        for d in state.deployments
        if not d.entrypoint
    ]
    exported = export_automations(
        state.automations,
        state.names,
        state.ids,
        environment=environment,
        related_only=state.some_flows,
    )
    warnings += exported.warnings
    entries = [
        _with_triggers(deployment_entry(d), exported.triggers.get(d.full_name))
        for d in state.deployments
        if d.entrypoint
    ]
    defaults = _factor_defaults(entries)
    config: dict[str, Any] = {"project": project}
    if defaults:
        config["defaults"] = defaults
    config["environments"] = {environment: connection}
    used = sorted({name for e in entries if (name := _pool_name(e, defaults))})
    pools = {n: pool_entry(state.pools[n], default_template) for n in used if n in state.pools}
    if pools:
        config["work_pools"] = pools
    if exported.automations:
        config["automations"] = literal(exported.automations)
    config["deployments"] = entries
    return config, warnings


def _with_triggers(entry: dict[str, Any], triggers: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The entry with its triggers last (from the automations that run it)."""
    return {**entry, "triggers": literal(triggers)} if triggers else entry


def deployment_entry(d: Deployment) -> dict[str, Any]:
    """One deployment as a `deployments:` entry; fields at their defaults are left out."""
    entry: dict[str, Any] = {"name": d.name, "entrypoint": d.entrypoint}
    optional = {
        "description": d.description or None,
        "version": d.version or None,
        "parameters": d.parameters or None,
        "schedules": [schedule_entry(s) for s in d.schedules] or None,
        "tags": [t for t in d.tags if not t.startswith(MARKER_PREFIX)] or None,
        "work_pool": _work_pool(d),
        "pull_steps": list(d.pull_steps) if d.pull_steps else None,
        "paused": d.paused or None,
        "concurrency_limit": _concurrency_limit(d),
        "enforce_parameter_schema": False if not d.enforce_parameter_schema else None,
    }
    entry.update({k: literal(v) for k, v in optional.items() if v is not None})
    return entry


def _concurrency_limit(d: Deployment) -> int | dict[str, Any] | None:
    """The number, or the mapping when the deployment has options besides the server's
    default (options without a limit limit nothing: left out)."""
    options = comparable("concurrency_options", d)
    if d.concurrency_limit is None or options is None:
        return d.concurrency_limit
    given = {k: v for k, v in options.items() if v is not None}
    return {"limit": d.concurrency_limit, **given}


def _work_pool(d: Deployment) -> dict[str, Any] | None:
    if not d.work_pool_name:
        return None
    pool: dict[str, Any] = {"name": d.work_pool_name}
    queue = queue_name(d)
    if queue and queue != "default":
        pool["work_queue_name"] = queue
    if d.job_variables:
        pool["job_variables"] = d.job_variables
    return pool


def schedule_entry(s: Schedule) -> dict[str, Any]:
    """A schedule as written in the config; a server-given slug is kept."""
    entry: dict[str, Any] = {}
    if s.cron is not None:
        entry["cron"] = s.cron
        if s.day_or is False:
            entry["day_or"] = False
    elif s.interval is not None:
        entry["interval"] = int(s.interval) if float(s.interval).is_integer() else s.interval
        if s.anchor_date:
            entry["anchor_date"] = s.anchor_date
    else:
        entry["rrule"] = s.rrule
    if s.timezone != "UTC":
        entry["timezone"] = s.timezone
    if not s.active:
        entry["active"] = False
    if s.parameters:
        entry["parameters"] = s.parameters
    if not s.slug.startswith(NO_SLUG):
        entry["slug"] = s.slug
    if s.max_scheduled_runs is not None:
        entry["max_scheduled_runs"] = s.max_scheduled_runs
    return entry


def pool_entry(data: wire.WorkPoolResponse, default_template: DefaultTemplate) -> dict[str, Any]:
    """A `work_pools:` entry; the base job template only when it is not the type's default."""
    entry: dict[str, Any] = {"type": data.type}
    template = data.base_job_template or {}
    if json_value(template) != json_value(default_template(data.type)):  # an empty one too
        entry["base_job_template"] = literal(template)
    if data.description:
        entry["description"] = literal(data.description)
    if data.concurrency_limit is not None:
        entry["concurrency_limit"] = data.concurrency_limit
    if data.is_paused:
        entry["paused"] = True
    return entry


def _factor_defaults(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Values every entry shares, moved into `defaults` (only with two or more entries):
    pull steps, the work pool's name and tags (tags are unioned, so the common ones)."""
    if len(entries) < 2:
        return {}
    defaults: dict[str, Any] = {}
    steps = [e.get("pull_steps") for e in entries]
    if steps[0] is not None and all(s == steps[0] for s in steps):
        defaults["pull_steps"] = steps[0]
        for e in entries:
            del e["pull_steps"]
    pools = [e.get("work_pool", {}).get("name") for e in entries]
    if pools[0] is not None and all(p == pools[0] for p in pools):
        defaults["work_pool"] = {"name": pools[0]}
        for e in entries:
            del e["work_pool"]["name"]
            if not e["work_pool"]:
                del e["work_pool"]
    common = _common_tags(e.get("tags") or [] for e in entries)
    if common:
        defaults = {"tags": common, **defaults}
        for e in entries:
            e["tags"] = [t for t in e["tags"] if t not in common]
            if not e["tags"]:
                del e["tags"]
    return defaults


def _common_tags(tag_lists: Iterable[list[str]]) -> list[str]:
    lists = list(tag_lists)
    return [t for t in lists[0] if all(t in other for other in lists[1:])]


def _pool_name(entry: dict[str, Any], defaults: dict[str, Any]) -> str | None:
    pool = {**defaults.get("work_pool", {}), **entry.get("work_pool", {})}
    name = pool.get("name")
    return str(name) if name else None


def literal(value: Any) -> Any:
    """`${` in a value read from the server is written `$${` (else the loader would
    substitute a variable)."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [literal(v) for v in value]
    return value


HEADER = (
    "# yaml-language-server: $schema=flowfleet.schema.json\n"
    "# Exported by `flowfleet export` from {where}.\n"
    "# Check it with `flowfleet validate`,"
    " then take the deployments over: `flowfleet plan --env {env} --adopt`\n"
    "# shows that only the ownership marker is added; `flowfleet apply --env {env} --adopt`.\n"
)


def dump_export(config: dict[str, Any], environment: str, where: str) -> str:
    """flowfleet.yaml text: the schema comment, then one block per top-level key."""
    from flowfleet.interop.importer.dump import yaml_block

    sections = [HEADER.format(where=where, env=environment)]
    sections += [yaml_block(key, value) for key, value in config.items()]
    return "\n".join(sections)
