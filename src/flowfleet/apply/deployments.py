"""apply(plan): run each change through its own small handler, concurrently.

An unchanged deployment gets no request at all (every deployment write makes the server
delete its future scheduled runs). A change that fails is reported and the others go on;
a re-run converges because the plan is computed afresh from the server each time. Once
the server stops answering (see Api.down), the changes not yet started are reported as
not attempted, distinct from those that failed.

Every write here is safe to repeat after a lost answer: flows and deployments are upserts
by name, updates go by id, a DELETE that finds nothing is done. The one create that is
not an upsert, a schedule with `max_scheduled_runs` sent after its deployment, is looked
up by slug before it is sent again (see Api.call).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowfleet.apply.infrastructure import apply_infra_change
from flowfleet.errors import FlowfleetError
from flowfleet.model.items import AUTOMATION_KINDS, KINDS
from flowfleet.model.resources import Deployment, LiveDeployment, Schedule
from flowfleet.plan.change import Action, AnyChange
from flowfleet.plan.deployments import DeploymentChange, Plan, changes_schedules
from flowfleet.plan.infrastructure import InfraChange
from flowfleet.plan.normalize import schedule_dict, schedule_renames
from flowfleet.server import payloads, wire
from flowfleet.server.api import Api, Lookup, NotAttempted


@dataclass(frozen=True)
class Outcome:
    change: AnyChange
    error: str | None = None
    attempted: bool = True  # False: never sent, the server had stopped answering

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ApplyResult:
    environment: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    stopped: str | None = None  # why changes were left: server gone, deadline reached

    @property
    def done(self) -> list[Outcome]:
        """Changes that were made (creates, updates, deletes)."""
        writes = (Action.CREATE, Action.UPDATE, Action.DELETE)
        return [o for o in self.outcomes if o.ok and o.change.action in writes]

    @property
    def failed(self) -> list[Outcome]:
        """Changes that were tried and did not succeed (their effect may be partial)."""
        return [o for o in self.outcomes if not o.ok and o.attempted]

    @property
    def not_attempted(self) -> list[Outcome]:
        """Changes never sent because the server had stopped answering."""
        return [o for o in self.outcomes if not o.attempted]

    @property
    def complete(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        done = [o.change.action.value for o in self.outcomes if o.ok]
        counts = {a.value: done.count(a.value) for a in Action}
        counts["failed"] = len(self.failed)
        counts["not_attempted"] = len(self.not_attempted)
        return counts


Progress = Callable[[Outcome], None]


async def apply_plan(api: Api, plan: Plan, progress: Progress | None = None) -> ApplyResult:
    """Make the server match the plan; never raises for a single failed change."""
    started = time.monotonic()
    result = ApplyResult(plan.environment)
    flow_ids = await _ensure_flows(api, plan)

    async def run(change: DeploymentChange) -> None:
        outcome = await _run_change(api, change, flow_ids)
        result.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    await asyncio.gather(*(run(c) for c in plan.changes))
    result.seconds = time.monotonic() - started
    result.requests, result.retries = api.stats.requests, api.stats.retries
    return result


async def apply_infra(
    api: Api, changes: list[InfraChange], progress: Progress | None
) -> list[Outcome]:
    """Infrastructure changes, one kind after the other (blocks before pools before
    queues ...), the changes of one kind concurrently."""
    outcomes: list[Outcome] = []
    for kind in (*KINDS, *AUTOMATION_KINDS):

        async def run(change: InfraChange) -> Outcome:
            if api.down is not None:
                return Outcome(change, str(api.down), attempted=False)
            try:
                await apply_infra_change(api, change)
            except NotAttempted as exc:  # its write never reached the server
                return Outcome(change, str(exc), attempted=False)
            except FlowfleetError as exc:
                return Outcome(change, str(exc))
            return Outcome(change)

        for outcome in await asyncio.gather(*(run(c) for c in changes if c.kind == kind)):
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


async def _ensure_flows(api: Api, plan: Plan) -> dict[str, str]:
    """Flow ids for every create; each missing flow is created once. A flow that cannot
    be created has no id: its creates then fail (or are not attempted) one by one."""
    flow_ids = dict(plan.flow_ids)
    needed = {c.key[0] for c in plan.of(Action.CREATE)} - flow_ids.keys()

    async def create(name: str) -> None:
        try:
            flow = await api.call("POST", "/flows/", wire.FlowCreate(name=name))
        except FlowfleetError:
            return
        flow_ids[name] = wire.Flow.model_validate(flow).id

    await asyncio.gather(*(create(n) for n in sorted(needed)))
    return flow_ids


async def _create_flow(api: _Calls, name: str) -> str:
    flow = await api.call("POST", "/flows/", wire.FlowCreate(name=name))
    return wire.Flow.model_validate(flow).id


class _Calls:
    """The requests of one change: whether any was sent tells "failed" (perhaps partly
    done) from "not attempted" once the server is down."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.sent = False

    async def call(
        self,
        method: str,
        path: str,
        json: wire.Body | None = None,
        *,
        lookup: Lookup | None = None,
    ) -> Any:
        try:
            answer = await self.api.call(method, path, json, lookup=lookup)
        except NotAttempted:
            raise
        except FlowfleetError:
            self.sent = True
            raise
        self.sent = True
        return answer


async def _run_change(api: Api, change: DeploymentChange, flow_ids: dict[str, str]) -> Outcome:
    calls = _Calls(api)
    try:
        await _handle(calls, change, flow_ids)
    except NotAttempted as exc:
        return Outcome(change, str(exc), attempted=calls.sent)
    except FlowfleetError as exc:
        return Outcome(change, str(exc))
    return Outcome(change)


async def _handle(api: _Calls, change: DeploymentChange, flow_ids: dict[str, str]) -> None:
    if change.action is Action.CREATE:
        assert change.desired is not None
        flow = change.key[0]
        # a flow whose creation failed up front is tried again here, for its own error
        flow_id = flow_ids.get(flow) or await _create_flow(api, flow)
        await _create(api, change.desired, flow_id)
    elif change.action is Action.UPDATE:
        assert change.desired is not None and change.live is not None
        await _update(api, change.desired, change.live, {f.field for f in change.fields})
    elif change.action is Action.DELETE:
        assert change.live is not None
        await api.call("DELETE", f"/deployments/{change.live.id}")


async def _create(api: _Calls, desired: Deployment, flow_id: str) -> None:
    body = payloads.create_deployment(desired, flow_id)
    created = wire.DeploymentResponse.model_validate(await api.call("POST", "/deployments/", body))
    if payloads.schedules_sent_later(desired):
        await _create_schedules(api, created.id, desired.schedules)


async def _create_schedules(api: _Calls, deployment_id: str, schedules: Sequence[Schedule]) -> None:
    """POST schedules; retried after a lost answer only if they are not there yet (their
    slugs are unique within the deployment, but SQLite servers answer a duplicate with
    500, not 409)."""

    async def lookup() -> list[Any] | None:
        found = await api.api.call("GET", f"/deployments/{deployment_id}")
        live = wire.DeploymentResponse.model_validate(found).schedules or []
        mine = [s for s in live if s.slug in {s.slug for s in schedules}]
        return [s.model_dump(mode="json") for s in mine] if len(mine) == len(schedules) else None

    body = [payloads.schedule(s) for s in schedules]
    await api.call("POST", f"/deployments/{deployment_id}/schedules", body, lookup=lookup)


async def _update(
    api: _Calls, desired: Deployment, live: LiveDeployment, changed: set[str]
) -> None:
    body = payloads.update_deployment(desired, changed)
    if body.model_fields_set:
        await api.call("PATCH", f"/deployments/{live.id}", body)
    if changes_schedules(changed):
        await _update_schedules(api, desired, live)


async def _update_schedules(api: _Calls, desired: Deployment, live: LiveDeployment) -> None:
    """Schedules are changed one by one, by slug, so unchanged ones keep their ids; a
    renamed one (`replaces`) is a PATCH of the old schedule's id with the new slug, so it
    keeps its id too, on every supported server."""
    base = f"/deployments/{live.id}/schedules"
    renamed = schedule_renames(desired, live.deployment)
    old = {renamed.get(s.slug, s.slug): s for s in live.deployment.schedules}
    ids = {renamed.get(slug, slug): sid for slug, sid in live.schedule_ids.items()}
    new = {s.slug: s for s in desired.schedules}
    # A PATCH ignores nulls, so a limit can only be cleared by recreating the schedule.
    recreate = {
        slug
        for slug, s in new.items()
        if slug in old and s.max_scheduled_runs is None and old[slug].max_scheduled_runs
    }
    for slug in (old.keys() - new.keys()) | recreate:
        await api.call("DELETE", f"{base}/{ids[slug]}")
    for slug, schedule in new.items():
        if slug not in old or slug in recreate:
            await _create_schedules(api, live.id, [schedule])
        elif schedule_dict(schedule, schedule) != schedule_dict(old[slug], schedule):
            await api.call("PATCH", f"{base}/{ids[slug]}", payloads.schedule_update(schedule))
