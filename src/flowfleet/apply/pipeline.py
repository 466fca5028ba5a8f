"""The online half of the pipeline: connect, read live state, plan, apply.

Every selected environment is validated (before this) and planned before any is applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from flowfleet.apply.deployments import ApplyResult, Outcome, Progress, apply_infra, apply_plan
from flowfleet.model.items import Item
from flowfleet.model.masking import scrub, secret_values
from flowfleet.model.resources import Deployment, LiveState, WorkPool
from flowfleet.model.target import Target
from flowfleet.plan.automations import (
    automation_name,
    desired_automations,
    live_automation,
    plan_automations,
    reference_errors,
    references,
)
from flowfleet.plan.change import Action
from flowfleet.plan.deployments import PROTECTED_TAG, build_plan, ownership_marker
from flowfleet.plan.environment import EnvironmentPlan
from flowfleet.plan.features import unsupported
from flowfleet.plan.infrastructure import InfraPlan, plan_infrastructure
from flowfleet.plan.items import desired_items
from flowfleet.plan.saved import fingerprint
from flowfleet.render.validate import Desired
from flowfleet.server.api import Api, connect
from flowfleet.server.automations import Ref, read_automations, resolve
from flowfleet.server.blocks import block_class, register_block_type
from flowfleet.server.connection import resolve_target
from flowfleet.server.ledger import ledger_name, read_ledger, write_ledger
from flowfleet.server.lock import (
    Lease,
    holder_id,
    holding,
    lock_name,
    mark_writing,
    seen_before_planning,
    written_since,
)
from flowfleet.server.read import read_live
from flowfleet.server.read_infra import known_block_types, read_infrastructure


def managed_deployments(desired: Desired) -> list[Deployment]:
    """The desired deployments as they go to the server: with the ownership marker tag
    (and the protection tag when `protected`) and the parameter schema of each flow."""
    marker = ownership_marker(desired.project, desired.environment)
    return [
        r.deployment.model_copy(
            update={
                "tags": _with_tags(
                    r.deployment.tags,
                    marker,
                    *((PROTECTED_TAG,) if r.deployment.protected else ()),
                ),
                "parameter_openapi_schema": desired.schemas.get(r.deployment.entrypoint),
            }
        )
        for r in desired.deployments
    ]


def _with_tags(tags: tuple[str, ...], *extra: str) -> tuple[str, ...]:
    return (*tags, *(t for t in extra if t not in tags))


def environment_target(desired: Desired) -> Target:
    """The API of the environment `desired` is for (a `local` one's server is started if
    it is not running)."""
    environment = desired.loaded.config.environments[desired.environment]
    return resolve_target(desired.loaded.root, desired.environment, environment, start_local=True)


def environment_leases(desired: Sequence[Desired]) -> list[Lease]:
    """The locks an apply of these environments holds (one per project and environment)."""
    holder = holder_id()
    return [
        Lease(
            environment_target(d),
            lock_name(d.project, d.environment),
            ownership_marker(d.project, d.environment),
            holder,
        )
        for d in desired
    ]


async def plan_environment(
    desired: Desired, *, prune: bool, adopt: bool, preview: str | None = None
) -> EnvironmentPlan:
    """Read one environment's server and plan it (or, with `preview`, that preview of it:
    see flowfleet.plan.preview)."""
    target = environment_target(desired)
    if preview is not None:
        return await _plan_preview(desired, target, preview, prune=prune, adopt=adopt)
    deployments = managed_deployments(desired)
    marker = ownership_marker(desired.project, desired.environment)
    items = desired_items(desired.infrastructure, marker)
    ledger = ledger_name(desired.project, desired.environment)
    automations = desired_automations(deployments, desired.infrastructure.automations, marker)
    async with connect(target) as api:
        live, owned = await asyncio.gather(
            _read_live(api, deployments, marker), read_ledger(api, ledger)
        )
        live_items = await read_infrastructure(api, {i.key for i in items} | owned)
        types = {i.fields["type"] for i in items if i.kind == "block"}
        known = await known_block_types(api, types) if types else set()
        live_automations, exists = await _read_automations(api, automations, live, marker)
    infra = _plan_infra(items, live_items, owned, known, ledger, prune=prune, adopt=adopt)
    declared_pools = {p.name for p in desired.infrastructure.work_pools}
    live = live.model_copy(update={"work_pools": live.work_pools | declared_pools})
    plan = build_plan(
        desired.project, desired.environment, deployments, live, prune=prune, adopt=adopt
    )
    managed = {d.full_name for d in deployments}
    managed |= {"/".join(c.key) for c in plan.of(Action.DELETE)}
    automation_changes = plan_automations(
        automations, live_automations, marker, deployments=managed, prune=prune, adopt=adopt
    )
    live_by_key = {**live_items, **{i.key: i for i in live_automations}}
    prints = fingerprint(deployments, [*items, *automations], live, live_by_key, owned)
    too_old = unsupported(live.server_version, target.environment, target.url, deployments)
    missing = reference_errors(automations, declared_references(desired), exists)
    return EnvironmentPlan(
        desired, target, plan, infra, prints, (*too_old, *missing), tuple(automation_changes)
    )


async def _read_automations(
    api: Api, automations: list[Item], live: LiveState, marker: str
) -> tuple[list[Item], dict[Ref, str]]:
    """The live automations an environment's plan looks at (owned, or named as a
    declared one), and the ids of what the declared ones refer to by name."""
    refs = {ref for item in automations for ref in references(item)}
    names = {automation_name(i) for i in automations}
    raw, exists = await asyncio.gather(read_automations(api, marker, names), resolve(api, refs))
    if not raw:
        return [], exists
    ids = {id_: name for (_, name), id_ in exists.items()}
    ids |= {d.id: d.deployment.full_name for d in live.deployments}
    return [live_automation(a, ids) for a in raw], exists


def declared_references(desired: Desired) -> set[Ref]:
    """What an automation of `desired` may refer to without it being on the server."""
    infra = desired.infrastructure
    return {
        *(("deployment", r.deployment.full_name) for r in desired.deployments),
        *(("work_pool", p.name) for p in infra.work_pools),
        *(("work_queue", f"{p.name}/{q}") for p in infra.work_pools for q in _queues(p)),
        *(("block", f"{b.type}/{b.name}") for b in infra.blocks),
        *(("automation", a.name) for a in infra.automations),
    }


def _queues(pool: WorkPool) -> list[str]:
    return ["default", *(q.name for q in pool.queues)]


async def _plan_preview(
    desired: Desired, target: Target, name: str, *, prune: bool, adopt: bool
) -> EnvironmentPlan:
    from flowfleet.plan.preview import plan_preview, preview_scope

    scope = preview_scope(desired, managed_deployments(desired), name)
    live = await read_marked(target, scope.deployments, scope.marker)
    plan, prints = plan_preview(desired, scope, live, prune=prune, adopt=adopt)
    too_old = unsupported(live.server_version, target.environment, target.url, scope.deployments)
    return EnvironmentPlan(desired, target, plan, fingerprint=prints, server_errors=tuple(too_old))


async def plan_destroy(desired: Desired, preview: str) -> EnvironmentPlan:
    """Read the deployments carrying the preview's marker, and plan to delete them all
    (`flowfleet destroy`; applied as any plan is: see apply_under_lock)."""
    from flowfleet.plan.preview import check_name, plan_destroy_preview, preview_marker

    target = environment_target(desired)
    marker = preview_marker(desired.project, desired.environment, check_name(preview))
    live = await read_marked(target, [], marker)
    return EnvironmentPlan(desired, target, plan_destroy_preview(desired, preview, live))


async def read_marked(target: Target, deployments: Sequence[Deployment], marker: str) -> LiveState:
    """Connect to `target` and read the live state a plan of `deployments` under
    `marker` needs."""
    async with connect(target) as api:
        return await _read_live(api, deployments, marker)


async def _read_live(api: Api, deployments: Sequence[Deployment], marker: str) -> LiveState:
    """The deployments carrying `marker`, and those of `deployments`' flows, pools."""
    return await read_live(
        api,
        declared=[d.key for d in deployments],
        marker=marker,
        pools=[d.work_pool_name for d in deployments if d.work_pool_name],
    )


def _plan_infra(
    items: list[Item],
    live: dict[tuple[str, str], Item],
    owned: frozenset[tuple[str, str]],
    known_types: set[str],
    ledger: str,
    *,
    prune: bool,
    adopt: bool,
) -> InfraPlan:
    changes, errors = plan_infrastructure(items, live, owned, prune=prune, adopt=adopt)
    missing = sorted({i.fields["type"] for i in items if i.kind == "block"} - known_types)
    for slug in missing:
        if block_class(slug) is None:
            errors.append(
                f"block type '{slug}' is unknown to the server and no installed package "
                "provides it; install the Prefect collection that defines it (e.g. prefect-aws)"
            )
    return InfraPlan(tuple(changes), tuple(errors), ledger, owned, tuple(missing))


async def plan_all(
    desired: Sequence[Desired], *, prune: bool, adopt: bool, preview: str | None = None
) -> list[EnvironmentPlan]:
    """Plan every environment (one after the other: local servers may need starting)."""
    if preview is not None:
        from flowfleet.plan.preview import check_name

        check_name(preview)
    return [await plan_environment(d, prune=prune, adopt=adopt, preview=preview) for d in desired]


async def apply_environment(planned: EnvironmentPlan, progress: Progress | None) -> ApplyResult:
    """Apply one environment's plan: infrastructure first (the ownership list before any
    create, so an interrupted apply still owns what it made), deployments, then deletions
    of infrastructure."""
    infra = planned.infra
    marker = planned.plan.marker
    started = time.monotonic()
    async with connect(planned.target) as api:
        if infra.has_changes:
            await write_ledger(api, infra.ledger, infra.owned_before | infra.owned_after, marker)
        for slug in infra.register_types:
            await register_block_type(api, slug)
        early = [c for c in infra.changes if c.action is not Action.DELETE]
        outcomes = await apply_infra(api, early, progress)
        result = await apply_plan(api, planned.plan, progress)
        outcomes += await apply_infra(api, list(planned.automations), progress)
        deletes = [c for c in infra.changes if c.action is Action.DELETE]
        outcomes += await apply_infra(api, deletes, progress)
        if infra.has_changes and api.down is None:  # else the wider list written first stays
            failed = {o.change.key for o in outcomes if not o.ok}
            owned = infra.owned_after | (failed & infra.owned_before)
            await write_ledger(api, infra.ledger, owned, marker)
    result.outcomes[:0] = outcomes
    result.outcomes[:] = _without_secrets(result.outcomes, planned)
    result.requests, result.retries = api.stats.requests, api.stats.retries
    result.stopped = api.stop_reason()
    result.seconds = time.monotonic() - started
    return result


def _without_secrets(outcomes: list[Outcome], planned: EnvironmentPlan) -> list[Outcome]:
    """Failure messages with secret values masked: a Prefect 422 answer echoes the
    request body, job variables and block values included."""
    secrets = {
        value
        for c in planned.plan.changes
        if c.desired is not None
        for value in secret_values(c.desired.job_variables, c.desired.secret_env)
    }
    for change in planned.infra.changes:
        item = change.desired
        data = item.fields.get("data") if item is not None else None
        if item is not None and isinstance(data, dict):
            secrets |= {str(v) for k, v in data.items() if k in item.secrets and v}
    return [
        replace(o, error=scrub(o.error, secrets)) if o.error and secrets else o for o in outcomes
    ]


T = TypeVar("T")
Plans = list[EnvironmentPlan]


def apply_under_lock(
    desired: Sequence[Desired],
    plan: Callable[[], Plans],
    act: Callable[[Plans, Callable[[], None]], T],
    *,
    lock_timeout: float,
    check: Callable[[Plans], None] | None = None,
) -> T:
    """Plan, then `act(plans, before_writes)`: the way every apply runs (command line and
    Python API). Without `check`, the plan is made first without the lock, and an
    unchanged one is acted on without it (reads only). Otherwise the environments' locks
    are taken and the plan is made again under them if another apply wrote since (see
    flowfleet.server.lock) — or always, with `check` (a saved plan, checked against the new
    one). `act` calls `before_writes` before its first write."""
    leases = environment_leases(desired)
    seen = None
    if check is None:
        seen = seen_before_planning(leases)
        plans = plan()
        if not any(p.has_changes for p in plans):
            return act(plans, lambda: None)
    with holding(leases, lock_timeout):
        if seen is None or written_since(leases, seen):
            plans = plan()
        if check is not None:
            check(plans)
        return act(plans, lambda: mark_writing(leases))
