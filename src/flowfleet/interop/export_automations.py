"""The automations on a server → deployment `triggers:` and top-level `automations:`. Pure.

The server does not say which deployment owns an automation. One whose only action runs
a selected deployment, with no other actions and no tags (or only those flowfleet gives
a trigger), is what `prefect deploy` (and flowfleet) make of a deployment's trigger: it
becomes a trigger of that deployment when the deployment is exported, and is left out
with it otherwise. Every other automation becomes a top-level one, its references by
name. Fields at their defaults are left out (durations in seconds, a trigger's default
name `<deployment>__automation_<n>` too), and each entry is read back and compared as
plan compares it: one that would not come back the same is left out with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic

from flowfleet.config.automations import ACTION_TYPES, AutomationSpec, DeploymentTrigger
from flowfleet.model.items import Item, json_value
from flowfleet.model.resources import REFERENCES, Automation
from flowfleet.plan.automations import TRIGGER_TAG, live_automation
from flowfleet.plan.items import differing
from flowfleet.render.automations import deployment_triggers
from flowfleet.render.deployments import substitute
from flowfleet.render.infrastructure import render_automations

ACTION_FIELDS = ("actions", "actions_on_trigger", "actions_on_resolve")
MARKER_PREFIX = "flowfleet:"
_EVENT_DEFAULTS: dict[str, Any] = {
    "match": {},
    "match_related": {},
    "after": [],
    "expect": [],
    "for_each": [],
    "posture": "Reactive",
    "threshold": 1,
}
_ACTION_DEFAULTS: dict[str, Any] = {
    "name": None,
    "message": None,
    "force": False,
    "subject": "Prefect automated notification",
    "payload": "",
    "parameters": None,
    "job_variables": None,
    "schedule_after": 0,
}
_TAGS = {"event", "metric", "compound", "sequence", *ACTION_TYPES}  # of the unions
_WINDOWS = ("range", "firing_for")  # a metric query's, 300 s unless given
_DEPLOYMENT_TRIGGER = pydantic.TypeAdapter(DeploymentTrigger)


class Unexportable(Exception):
    """An automation flowfleet cannot declare as it is (the message says why)."""


@dataclass
class ExportedAutomations:
    """Triggers by deployment (`flow/name`), top-level automations by name, warnings."""

    environment: str  # the exported one (its `{env}` is substituted when read back)
    triggers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    automations: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def export_automations(
    automations: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    exported: Mapping[str, str],
    *,
    environment: str,
    related_only: bool,
) -> ExportedAutomations:
    """Split and convert `automations` (the server's JSON) for `environment`. `names`:
    id → name of what they refer to; `exported`: id → `flow/name` of the exported
    deployments; with `related_only` (some flows only), a top-level automation is
    exported only when one of its actions refers to an exported deployment."""
    result = ExportedAutomations(environment)
    owned: dict[str, list[Mapping[str, Any]]] = {}
    for automation in automations:
        runs = runs_deployment(automation)
        if runs is not None:
            if runs in exported:
                owned.setdefault(exported[runs], []).append(automation)
        elif not related_only or _refers_to(automation, exported):
            _add(result, automation, names)
    for full_name, found in sorted(owned.items()):
        result.triggers[full_name] = _triggers(result, full_name, found, names)
    return result


def runs_deployment(automation: Mapping[str, Any]) -> str | None:
    """The id of the deployment an automation made from a deployment's trigger runs."""
    actions = automation.get("actions") or []
    others = any(automation.get(f) for f in ACTION_FIELDS[1:])
    tags = automation.get("tags") or []
    flowfleet_trigger = TRIGGER_TAG in tags and all(t.startswith(MARKER_PREFIX) for t in tags)
    if len(actions) != 1 or others or (tags and not flowfleet_trigger):
        return None
    action = actions[0]
    if action.get("type") != "run-deployment" or action.get("source") != "selected":
        return None
    return str(action["deployment_id"]) if action.get("deployment_id") else None


def _refers_to(automation: Mapping[str, Any], exported: Mapping[str, str]) -> bool:
    actions = [a for f in ACTION_FIELDS for a in automation.get(f) or ()]
    return any(a.get("deployment_id") in exported for a in actions)


def _add(
    result: ExportedAutomations, automation: Mapping[str, Any], names: Mapping[str, str]
) -> None:
    name = str(automation["name"])
    try:
        entry = automation_entry(automation, names)
        spec = AutomationSpec.model_validate(entry)
        [desired] = render_automations({name: spec}, result.environment)
        _check(desired, automation, names)
    except (Unexportable, pydantic.ValidationError) as exc:
        result.warnings.append(f"automation '{name}': skipped: {_reason(exc)}; declare it by hand")
        return
    if name in result.automations:
        result.warnings.append(
            f"automation '{name}': skipped: a second automation of that name (flowfleet "
            "names automations uniquely); rename one of them"
        )
        return
    result.automations[name] = entry


def _triggers(
    result: ExportedAutomations,
    full_name: str,
    found: list[Mapping[str, Any]],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    """A deployment's triggers, ordered so that as many as possible have the default name."""
    deployment = full_name.split("/", 1)[1]
    entries: list[dict[str, Any]] = []
    for automation in _in_order(deployment, found):
        # the default name of its place among those written (one skipped moves the next)
        default = f"{deployment}__automation_{len(entries) + 1}"
        try:
            entry = trigger_entry(automation, default_name=default)
            model = _DEPLOYMENT_TRIGGER.validate_python(entry)
            [desired] = deployment_triggers(deployment, full_name, [model])
            rendered = substitute(desired.model_dump(), {"env": result.environment})
            _check(Automation.model_validate(rendered), automation, names)
        except (Unexportable, pydantic.ValidationError) as exc:
            result.warnings.append(
                f"{full_name}: trigger '{automation['name']}': skipped: {_reason(exc)}; "
                "declare it by hand"
            )
            continue
        entries.append(entry)
    return entries


def _in_order(deployment: str, found: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`<deployment>__automation_<n>` at place n where it can be, the others in the gaps."""
    pattern = re.compile(re.escape(deployment) + r"__automation_([1-9][0-9]*)")
    places: list[Mapping[str, Any] | None] = [None] * len(found)
    rest = []
    for automation in sorted(found, key=lambda a: (str(a["name"]), str(a["id"]))):
        match = pattern.fullmatch(str(automation["name"]))
        n = int(match.group(1)) if match else 0
        if 0 < n <= len(found) and places[n - 1] is None:
            places[n - 1] = automation
        else:
            rest.append(automation)
    others = iter(rest)
    return [place if place is not None else next(others) for place in places]


def trigger_entry(automation: Mapping[str, Any], *, default_name: str) -> dict[str, Any]:
    """A deployment's trigger in prefect.yaml's compact form: the automation's name unless
    it is `default_name`, its trigger, and the run action's options."""
    spec = trigger_spec(automation["trigger"])
    entry: dict[str, Any] = {"type": spec.pop("type")} if "type" in spec else {}
    if automation["name"] != default_name:
        entry["name"] = automation["name"]
    if automation.get("description"):
        entry["description"] = automation["description"]
    if automation.get("enabled") is False:
        entry["enabled"] = False
    entry |= spec
    [action] = automation["actions"]
    entry |= {
        key: _number(value)
        for key in ("parameters", "job_variables", "schedule_after")
        if (value := action.get(key)) != _ACTION_DEFAULTS[key]
    }
    return entry


def automation_entry(automation: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A top-level `automations:` entry (without its name, the key)."""
    entry: dict[str, Any] = {}
    if automation.get("description"):
        entry["description"] = automation["description"]
    if automation.get("enabled") is False:
        entry["enabled"] = False
    tags = [t for t in automation.get("tags") or () if not t.startswith(MARKER_PREFIX)]
    if tags:
        entry["tags"] = tags
    entry["trigger"] = trigger_spec(automation["trigger"])
    for key in ACTION_FIELDS:
        actions = [action_entry(a, names) for a in automation.get(key) or ()]
        if actions or key == "actions":
            entry[key] = actions
    return entry


def trigger_spec(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """A trigger as the config writes it: without its ids and the fields at their
    defaults; `type` only where it cannot be inferred from the other fields."""
    kind = trigger.get("type")
    if kind == "event":
        spec = {
            key: sorted(value) if key in ("after", "expect", "for_each") else _number(value)
            for key, value in trigger.items()
            if key not in ("id", "type", "within") and value != _EVENT_DEFAULTS.get(key, ...)
        }
        default_within = 10 if trigger.get("posture") == "Proactive" else 0
        if trigger.get("within") not in (None, default_within):
            spec["within"] = _number(trigger["within"])
        return spec
    if kind == "metric":
        metric = {k: _number(v) for k, v in trigger["metric"].items()}
        metric = {k: v for k, v in metric.items() if k not in _WINDOWS or v != 300}
        spec = {"type": "metric"}
        spec |= {k: trigger[k] for k in ("match", "match_related") if trigger.get(k)}
        return {**spec, "metric": metric}
    if kind in ("compound", "sequence"):
        spec = {"type": kind}
        if kind == "compound":
            spec["require"] = trigger["require"]
        if trigger.get("within") is not None:
            spec["within"] = _number(trigger["within"])
        return {**spec, "triggers": [trigger_spec(t) for t in trigger["triggers"]]}
    raise Unexportable(f"its trigger's type '{kind}' is not one flowfleet knows")


def action_entry(action: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """An action as the config writes it: what it refers to by name (left out: the object
    the event is about), other fields unless at their defaults."""
    kind = str(action.get("type"))
    if kind not in ACTION_TYPES:
        raise Unexportable(f"its action '{kind}' is not one flowfleet knows")
    entry: dict[str, Any] = {"type": kind}
    for key, value in action.items():
        if key in REFERENCES:
            if value is not None:
                entry[REFERENCES[key]] = _name(kind, REFERENCES[key], str(value), names)
        elif key not in ("type", "source") and value != _ACTION_DEFAULTS.get(key, ...):
            entry[key] = _number(value)
    return entry


def _name(kind: str, what: str, id_: str, names: Mapping[str, str]) -> str:
    if id_ not in names:
        what = what.replace("_", " ")
        raise Unexportable(f"its action '{kind}' refers to a {what} ({id_}) not on the server")
    return names[id_]


def _check(desired: Automation, live: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Raise Unexportable unless the entry reads back to what plan compares with `live`."""
    fields = desired.model_dump(mode="json", exclude={"name", "tags"})
    item = Item("automation", desired.name, json_value(fields))
    differ = differing(item, live_automation(live, names))
    if differ:
        raise Unexportable(f"its {', '.join(differ)} would not read back as on the server")


def _reason(exc: Exception) -> str:
    if not isinstance(exc, pydantic.ValidationError):
        return str(exc)
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in error["loc"] if p not in _TAGS)
    if error["type"] == "extra_forbidden":
        return f"flowfleet does not know its '{where}'"
    return f"flowfleet's schema refuses its '{where}' ({error['msg']})"


def _number(value: Any) -> Any:
    """A float that is a whole number as an int (60.0 seconds → 60)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
