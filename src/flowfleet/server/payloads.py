"""Desired state → the bodies of Prefect API writes (flowfleet.server.wire models). Pure."""

from __future__ import annotations

from typing import Any

from flowfleet.model.resources import (
    COMPARED_FIELDS,
    Deployment,
    Schedule,
    anchor_instant,
    queue_name,
)
from flowfleet.server import wire

# Deployment fields that PATCH /deployments/{id} takes as they are (schedules are changed
# one by one through their own endpoints).
PATCHABLE = tuple(f for f in COMPARED_FIELDS if f != "schedules")


def create_deployment(deployment: Deployment, flow_id: str) -> wire.DeploymentCreate:
    """The body of POST /deployments/ for a new deployment: fields that are None are left
    out (the server's defaults), except version and description (the upsert keeps an old
    value that is not sent)."""
    fields = _fields(deployment, PATCHABLE)
    kept = ("version", "description", "concurrency_options")  # the upsert keeps them if unsent
    sent = {k: v for k, v in fields.items() if v is not None or k in kept}
    later = schedules_sent_later(deployment)
    schedules = [] if later else [schedule(s) for s in deployment.schedules]
    return wire.DeploymentCreate(name=deployment.name, flow_id=flow_id, **sent, schedules=schedules)


def update_deployment(deployment: Deployment, changed: set[str]) -> wire.DeploymentUpdate:
    """The body of PATCH /deployments/{id} with only the changed fields.

    Pool and queue always go together: the server resets the queue when only the pool is
    sent, and moves the deployment to another pool when only the queue is sent.
    """
    if changed & {"work_pool_name", "work_queue_name"}:
        changed = changed | {"work_pool_name", "work_queue_name"}
    body = _fields(deployment, [f for f in PATCHABLE if f in changed])
    if "work_queue_name" in body:
        body["work_queue_name"] = queue_name(deployment)  # null would change nothing
    return wire.DeploymentUpdate(**body)


def schedules_sent_later(deployment: Deployment) -> bool:
    """The deployment upsert drops `max_scheduled_runs`; such schedules are created by the
    schedules endpoint after the deployment (one more request, only when needed)."""
    return any(s.max_scheduled_runs is not None for s in deployment.schedules)


def schedule(s: Schedule) -> wire.DeploymentScheduleCreate:
    """A deployment schedule body (create)."""
    return wire.DeploymentScheduleCreate(**_schedule_fields(s))


def schedule_update(s: Schedule) -> wire.DeploymentScheduleUpdate:
    """A deployment schedule body (update): every field, as for a create."""
    return wire.DeploymentScheduleUpdate(**_schedule_fields(s))


def _schedule_fields(s: Schedule) -> dict[str, Any]:
    spec: wire.CronSchedule | wire.IntervalSchedule | wire.RRuleSchedule
    if s.cron is not None:
        spec = wire.CronSchedule(timezone=s.timezone, cron=s.cron, day_or=s.day_or is not False)
    elif s.interval is not None:
        spec = wire.IntervalSchedule(timezone=s.timezone, interval=s.interval)
        if s.anchor_date is not None:
            # Explicit offset: Prefect reads a naive anchor in the schedule's time zone,
            # but the server would store a naive string as UTC.
            anchor = anchor_instant(s.anchor_date, s.timezone)
            spec = spec.model_copy(update={"anchor_date": anchor})
    else:
        assert s.rrule is not None
        spec = wire.RRuleSchedule(timezone=s.timezone, rrule=s.rrule)
    return {
        "schedule": spec,
        "active": s.active,
        "parameters": s.parameters,
        "slug": s.slug,
        "max_scheduled_runs": s.max_scheduled_runs,
    }


def _fields(deployment: Deployment, names: Any) -> dict[str, Any]:
    data = deployment.model_dump(mode="json", include=set(names))
    options = data.get("concurrency_options")
    if options is not None and options["grace_period_seconds"] is None:
        del options["grace_period_seconds"]  # only sent when set: servers before 3.6.6 lack it
    return {name: data[name] for name in names}
