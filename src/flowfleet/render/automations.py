"""Triggers and automations from the config → automations in the server's JSON form. Pure.

What the server stores for what `prefect deploy` sends (measured; tests compare with
Prefect's own `DeploymentTrigger.as_automation()` and a real server): every field of the
trigger filled in, event names as sorted lists, durations as seconds (a float, to the
microsecond: Prefect keeps them as timedelta), a Proactive trigger's missing `within`
as 10 s. Actions keep their references by name (`deployment: flow/name`, ...): ids are
known only once the deployments exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from flowfleet.config.automations import (
    CompoundTrigger,
    EventTrigger,
    MetricTrigger,
    RunOptions,
    SequenceTrigger,
)
from flowfleet.model.resources import Automation

SOURCED = {"deployment", "work_pool", "work_queue", "automation"}  # selected or inferred
PROACTIVE_WINDOW = 10.0


def trigger_json(trigger: BaseModel) -> dict[str, Any]:
    """A trigger as the server stores it (without its `id`)."""
    if isinstance(trigger, EventTrigger):
        within = seconds(trigger.within or 0)
        if trigger.posture == "Proactive" and not within:
            within = PROACTIVE_WINDOW
        return {
            "type": "event",
            **_matches(trigger),
            "after": sorted(set(trigger.after or ())),
            "expect": sorted(set(trigger.expect or ())),
            "for_each": sorted(set(trigger.for_each or ())),
            "posture": trigger.posture,
            "threshold": trigger.threshold,
            "within": within,
        }
    if isinstance(trigger, MetricTrigger):
        metric = trigger.metric.model_dump()
        metric |= {k: seconds(metric[k]) for k in ("range", "firing_for")}
        metric["threshold"] = float(metric["threshold"])
        return {"type": "metric", **_matches(trigger), "posture": "Metric", "metric": metric}
    assert isinstance(trigger, CompoundTrigger | SequenceTrigger)
    data: dict[str, Any] = {
        "type": trigger.type,
        "triggers": [trigger_json(t) for t in trigger.triggers],
        "within": None if trigger.within is None else seconds(trigger.within),
    }
    if isinstance(trigger, CompoundTrigger):
        data["require"] = trigger.require
    return data


def seconds(value: float) -> float:
    """A duration as the server keeps it: a timedelta, to the microsecond."""
    return timedelta(seconds=value).total_seconds()


def _matches(trigger: EventTrigger | MetricTrigger) -> dict[str, Any]:
    related = trigger.match_related  # an empty list stays one, as in Prefect
    return {"match": trigger.match or {}, "match_related": {} if related is None else related}


def deployment_triggers(
    deployment: str, full_name: str, triggers: Sequence[BaseModel]
) -> tuple[Automation, ...]:
    """The automations of a deployment's `triggers:`, named as `prefect deploy` names them
    (`<deployment>__automation_<n>` unless `name` is given), each running the deployment."""
    return tuple(
        Automation(
            name=getattr(t, "name", None) or f"{deployment}__automation_{n}",
            description=getattr(t, "description", None) or "",
            enabled=getattr(t, "enabled", None) is not False,
            trigger=trigger_json(t),
            actions=(_run(full_name, t) if isinstance(t, RunOptions) else _run(full_name, None),),
        )
        for n, t in enumerate(triggers, start=1)
    )


def _run(full_name: str, options: RunOptions | None) -> dict[str, Any]:
    return {
        "type": "run-deployment",
        "source": "selected",
        "deployment": full_name,
        "parameters": options.parameters if options else None,
        "job_variables": options.job_variables if options else None,
        "schedule_after": seconds(options.schedule_after or 0) if options else 0.0,
    }


def action_json(action: BaseModel) -> dict[str, Any]:
    """An action in flowfleet's form of the server's: every field, references by name."""
    given = action.model_dump(exclude_none=True)
    kind = given["type"]
    data: dict[str, Any] = {"type": kind}
    refs = [r for r in SOURCED if r in type(action).model_fields]
    for ref in refs:
        data["source"] = "selected" if given.get(ref) else "inferred"
        data[ref] = given.get(ref)
    if kind == "run-deployment":
        data["parameters"] = given.get("parameters")
        data["job_variables"] = given.get("job_variables")
        data["schedule_after"] = seconds(given.get("schedule_after", 0))
    elif kind == "change-flow-run-state":
        data |= {"name": None, "message": None, "force": False} | given
    elif kind == "send-notification":
        data |= {"subject": "Prefect automated notification"} | given
    elif kind == "call-webhook":
        data |= {"payload": ""} | given
    return data
