"""Put desired and live values in the same form before comparing them.

Each rule here mirrors something the Prefect server does to what it stores, so that a
deployment that was just applied compares equal to its declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowfleet.model.items import json_value
from flowfleet.model.resources import (
    ConcurrencyOptions,
    Deployment,
    Schedule,
    anchor_instant,
    queue_name,
)

# A normaliser gets a field's value, the deployment, and the reference (the desired
# deployment when normalising a live one; None for a desired one).
Normaliser = Callable[[Any, Deployment, Deployment | None], Any]


def comparable(name: str, deployment: Deployment, reference: Deployment | None = None) -> Any:
    """The value of field `name`, normalised; `reference` is the desired deployment when
    normalising a live one (some server defaults only count when the config sets them)."""
    normalise = NORMALISERS.get(name, _as_is)
    return normalise(getattr(deployment, name), deployment, reference)


DEFAULT_AGENT_POOL = "default-agent-pool"
EMPTY_SCHEMA = {"properties": {}, "type": "object"}


def _as_is(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    return value


def _tags(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    return sorted(set(value))


def _schedules(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    ref = {s.slug: s for s in (reference or deployment).schedules}
    schedules = value
    if reference is not None:  # a live schedule being renamed compares under its new slug
        renamed = schedule_renames(reference, deployment)
        schedules = [s.model_copy(update={"slug": renamed.get(s.slug, s.slug)}) for s in value]
        schedules = _with_declared_slugs(tuple(schedules), reference)
    return sorted((schedule_dict(s, ref.get(s.slug)) for s in schedules), key=_slug)


def schedule_renames(desired: Deployment, live: Deployment) -> dict[str, str]:
    """Old slug → new slug of each declared schedule that renames a live one: it
    `replaces` a live slug, no live schedule has its new slug yet, and the old slug is not
    declared again. Once renamed (the old slug gone), `replaces` changes nothing.

    Not a rename: a change that clears `max_scheduled_runs`, which no schedule PATCH can
    clear: that schedule is made again (flowfleet.apply.deployments)."""
    live_slugs = {s.slug: s for s in live.schedules}
    declared = {s.slug for s in desired.schedules}
    renames: dict[str, str] = {}
    for s in desired.schedules:
        old = live_slugs.get(s.replaces or "")
        if old is None or s.slug in live_slugs or old.slug in declared:
            continue
        if not (s.max_scheduled_runs is None and old.max_scheduled_runs):
            renames[old.slug] = s.slug
    return renames


def _queue(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    return queue_name(deployment)


def _pool(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    # The server puts a deployment with a queue but no pool in its default agent pool.
    return value or (DEFAULT_AGENT_POOL if deployment.work_queue_name else None)


def _schema(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    # The server stores null, {} and EMPTY_SCHEMA alike as EMPTY_SCHEMA.
    return json_value(value) if value else EMPTY_SCHEMA


def _empty_is_none(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    return value or None


def _json(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    return json_value(value) if value is not None else None


def _concurrency_options(value: Any, deployment: Deployment, reference: Deployment | None) -> Any:
    # The server treats no options as ENQUEUE without a grace period (its own setting).
    if value is None or value == ConcurrencyOptions():
        return None
    return value.model_dump(mode="json")


NORMALISERS: dict[str, Normaliser] = {
    "tags": _tags,
    "schedules": _schedules,
    "work_queue_name": _queue,
    "work_pool_name": _pool,
    "parameter_openapi_schema": _schema,
    "pull_steps": _empty_is_none,
    "description": _empty_is_none,
    "version": _empty_is_none,
    "parameters": _json,
    "job_variables": _json,
    "concurrency_options": _concurrency_options,
}


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
