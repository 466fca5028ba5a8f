"""Put desired and live values in the same form before comparing them.

Each rule here mirrors something the Prefect server does to what it stores, so that a
deployment that was just applied compares equal to its declaration.
"""

from __future__ import annotations

from typing import Any

from flowfleet.model.items import json_value
from flowfleet.model.resources import Deployment, Schedule, anchor_instant, queue_name


def comparable(name: str, deployment: Deployment, reference: Deployment | None = None) -> Any:
    """The value of field `name`, normalised; `reference` is the desired deployment when
    normalising a live one (some server defaults only count when the config sets them)."""
    value = getattr(deployment, name)
    if name == "tags":
        return sorted(set(value))
    if name == "schedules":
        ref = {s.slug: s for s in (reference or deployment).schedules}
        schedules = _with_declared_slugs(value, reference) if reference is not None else value
        return sorted((schedule_dict(s, ref.get(s.slug)) for s in schedules), key=_slug)
    if name == "work_queue_name":
        return queue_name(deployment)
    if name == "work_pool_name":
        # The server puts a deployment with a queue but no pool in its default agent pool.
        return value or (DEFAULT_AGENT_POOL if deployment.work_queue_name else None)
    if name == "parameter_openapi_schema" and not value:
        return EMPTY_SCHEMA  # the server stores null, {} and this alike as this
    if name in ("pull_steps", "description", "version"):
        return value or None
    if name in ("parameters", "job_variables", "parameter_openapi_schema"):
        return json_value(value) if value is not None else None
    return value


DEFAULT_AGENT_POOL = "default-agent-pool"
EMPTY_SCHEMA = {"properties": {}, "type": "object"}


def schedule_dict(schedule: Schedule, reference: Schedule | None) -> dict[str, Any]:
    """A schedule as comparable data."""
    data: dict[str, Any] = {
        "slug": schedule.slug,
        "timezone": schedule.timezone,
        "active": schedule.active,
        "parameters": json_value(schedule.parameters),
        "max_scheduled_runs": schedule.max_scheduled_runs,
    }
    if schedule.cron is not None:
        data.update(cron=schedule.cron, day_or=schedule.day_or is not False)
    elif schedule.interval is not None:
        data["interval"] = float(schedule.interval)
        if reference is not None and reference.anchor_date is not None and schedule.anchor_date:
            # When the config gives no anchor the server picks one; only a declared one counts.
            data["anchor_date"] = anchor_instant(schedule.anchor_date, schedule.timezone)
    elif schedule.rrule is not None:
        rrule = schedule.rrule
        if reference is not None and "DTSTART" not in (reference.rrule or ""):
            rrule = strip_dtstart(rrule)  # the server injects a DTSTART into stored rules
        data["rrule"] = rrule
    return data


def strip_dtstart(rrule: str) -> str:
    """The rule without a DTSTART line (as the config wrote it)."""
    lines = [line for line in rrule.splitlines() if not line.upper().startswith("DTSTART")]
    return "\n".join(lines).removeprefix("RRULE:")


NO_SLUG = "(no slug) "  # how a live schedule without a slug is keyed (`prefect deploy` sets none)


def _with_declared_slugs(live: tuple[Schedule, ...], desired: Deployment) -> list[Schedule]:
    """Live schedules without a slug take the slug of an identical declared schedule that
    matches no live slug: a deployment made by `prefect deploy` and declared the same
    compares equal (its schedules are only replaced when they really differ)."""
    live_slugs = {s.slug for s in live}
    free = [d for d in desired.schedules if d.slug not in live_slugs]
    result = []
    for schedule in live:
        if schedule.slug.startswith(NO_SLUG):
            match = next((d for d in free if _same_but_slug(schedule, d)), None)
            if match is not None:
                free.remove(match)
                schedule = schedule.model_copy(update={"slug": match.slug})
        result.append(schedule)
    return result


def _same_but_slug(live: Schedule, declared: Schedule) -> bool:
    mine = schedule_dict(declared, declared)
    theirs = schedule_dict(live.model_copy(update={"slug": declared.slug}), declared)
    return mine == theirs


def _slug(data: dict[str, Any]) -> str:
    return str(data["slug"])
