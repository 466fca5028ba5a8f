"""A prefect.yaml deployment's `schedule:` (Prefect 2 style, one) or `schedules:` (a list)
→ flowfleet schedules, read the way `prefect deploy` reads them
(`_schedule_config_to_deployment_schedule`)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pydantic

from flowfleet.config.document import DocPath
from flowfleet.interop.importer.context import Context

_KINDS = ("cron", "interval", "rrule")
_COMMON = ("timezone", "active", "parameters", "slug")
# Read by prefect deploy only for one kind of schedule; ignored (silently) for the others.
_ONLY_FOR = {"anchor_date": "interval", "day_or": "cron"}
_TIMEDELTA = pydantic.TypeAdapter(timedelta)


def schedules(context: Context, path: DocPath, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The deployment's schedules; both keys at once is an error, as in prefect deploy."""
    single, many = entry.get("schedule"), entry.get("schedules")
    if single and many is not None:
        raise context.error(
            (*path, "schedule"),
            "both 'schedule' and 'schedules' are given; prefect deploy refuses that too: "
            "keep 'schedules'",
        )
    if single:
        return [s for s in [schedule(context, (*path, "schedule"), single)] if s]
    if many is None:
        return []
    if not isinstance(many, list):
        raise context.error((*path, "schedules"), "'schedules' must be a list of schedules")
    converted = []
    for i, raw in enumerate(many):
        if raw == {}:
            context.warn(
                (*path, "schedules", i),
                "an empty schedule left out (prefect deploy refuses it: 'Unknown schedule type')",
            )
        converted.append(schedule(context, (*path, "schedules", i), raw))
    return [s for s in converted if s]


def schedule(context: Context, path: DocPath, raw: Any) -> dict[str, Any] | None:
    """One schedule; an empty mapping (`schedule: {}`) is no schedule."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise context.error(path, "a schedule must be a mapping with cron, interval or rrule")
    kinds = [k for k in _KINDS if raw.get(k)]
    if len(kinds) != 1:
        found = " and ".join(kinds) or "none of them"
        raise context.error(
            path, f"a schedule needs exactly one of cron, interval or rrule; found {found}"
        )
    kind = kinds[0]
    result = {kind: _kind_value(context, (*path, kind), kind, raw[kind])}
    if kind == "rrule":
        result, raw = _rrule_json(context, path, result, raw)
    for key in (*_COMMON, "anchor_date", "day_or"):
        value = raw.get(key)
        if value is None or (key == "parameters" and not value):
            continue
        if _ONLY_FOR.get(key, kind) != kind:
            context.warn(
                (*path, key),
                f"'{key}' left out: prefect deploy ignores it on {kind} "
                f"schedules (it is for {_ONLY_FOR[key]} schedules)",
                key=True,
            )
            continue
        result[key] = context.data((*path, key), value)
    if raw.get("replaces") is not None:
        _replaces(context, path, raw["replaces"], result)
    _unknown_keys(context, path, raw)
    return _ordered(result)


def _replaces(context: Context, path: DocPath, value: Any, result: dict[str, Any]) -> None:
    """A rename (`replaces`: the old slug) is kept where it renames to a new slug."""
    at = (*path, "replaces")
    if "slug" not in result:
        reason = "it renames a schedule to this schedule's 'slug', and there is none"
    elif value == result["slug"]:
        reason = "it names the schedule's own slug (nothing to rename)"
    else:
        result["replaces"] = context.data(at, value)
        return
    context.warn(at, f"'replaces' left out: {reason}", key=True)


def _kind_value(context: Context, path: DocPath, kind: str, value: Any) -> Any:
    if kind != "interval":
        return context.data(path, value)
    if isinstance(value, bool):
        raise context.error(path, "interval must be a number of seconds, found a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    else:  # Prefect also takes ISO 8601 durations ("PT1H") and "HH:MM:SS"
        try:
            seconds = _TIMEDELTA.validate_python(value).total_seconds()
        except pydantic.ValidationError:
            raise context.error(
                path,
                f"interval '{value}' is neither seconds nor a duration like PT1H or 01:00:00",
            ) from None
    return int(seconds) if seconds.is_integer() else seconds


def _rrule_json(
    context: Context, path: DocPath, result: dict[str, Any], raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """prefect deploy also takes an RRuleSchedule as JSON text: {"rrule": ..., "timezone": ...}."""
    text = result["rrule"]
    try:
        parsed = (
            json.loads(text) if isinstance(text, str) and text.lstrip().startswith("{") else None
        )
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("rrule"), str):
        return result, raw
    merged = {**raw, "timezone": raw.get("timezone") or parsed.get("timezone")}
    return {"rrule": context.data((*path, "rrule"), parsed["rrule"])}, merged


_PREFECT_2 = {"max_active_runs", "catchup"}


def _unknown_keys(context: Context, path: DocPath, raw: dict[str, Any]) -> None:
    known = {*_KINDS, *_COMMON, *_ONLY_FOR, "replaces"}
    for key in raw:
        if key in known:
            continue
        origin = "a Prefect 2 schedule setting; " if key in _PREFECT_2 else ""
        message = (
            f"'{key}' left out: {origin}Prefect 3 refuses the whole file with it"
            " (prefect deploy: 'Invalid fields in deployments ... Skipping', exit 1)"
        )
        context.warn((*path, key), message, key=True)


def _ordered(schedule: dict[str, Any]) -> dict[str, Any]:
    order = [*_KINDS, "timezone", "anchor_date", "day_or", "active", "parameters"]
    order += ["slug", "replaces"]
    return {key: schedule[key] for key in order if key in schedule}
