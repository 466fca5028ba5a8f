"""A prefect.yaml deployment's `triggers:` → flowfleet's, which has the same schema.

prefect deploy resolves `{{ $VAR }}`, `{{ prefect.variables.* }}` and `{{ prefect.blocks.* }}`
everywhere in a trigger and the outputs of build and push steps everywhere but in
`parameters`, which it keeps as written for the automation to render when it fires
(`{{ event.* }}`, `{{ flow_run.* }}`, ...); the import translates them the same way.
Durations written as Prefect also takes them (`PT1H`, `01:00:00`) become seconds. What
flowfleet's schema refuses is never dropped silently: an unknown key (prefect deploy
ignores it) is left out with a warning at it, any other problem leaves the trigger out
with a warning at the value.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pydantic

from flowfleet.config.automations import (
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentMetricTrigger,
    DeploymentSequenceTrigger,
    deployment_trigger_type,
)
from flowfleet.config.diagnostics import describe, problems_from
from flowfleet.config.document import DocPath, Document
from flowfleet.errors import Problem
from flowfleet.interop.importer.context import Context

_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "event": DeploymentEventTrigger,
    "metric": DeploymentMetricTrigger,
    "compound": DeploymentCompoundTrigger,
    "sequence": DeploymentSequenceTrigger,
}
_TIMEDELTA = pydantic.TypeAdapter(timedelta)
_VARIABLE = re.compile(r"(?<!\$)\$\{")  # a ${VAR} the loader substitutes


def triggers(context: Context, path: DocPath, raw: Any) -> list[dict[str, Any]] | None:
    """The deployment's triggers that flowfleet's schema accepts (None: none)."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        context.warn(
            path, f"'triggers' left out: expected a list of triggers, found {describe(raw)}"
        )
        return None
    converted = [trigger(context, (*path, i), item) for i, item in enumerate(raw)]
    return [t for t in converted if t is not None] or None


def trigger(context: Context, path: DocPath, raw: Any) -> dict[str, Any] | None:
    """One trigger, or None when it is left out (with a warning)."""
    if not isinstance(raw, dict):
        context.warn(path, f"trigger left out: expected a mapping, found {describe(raw)}")
        return None
    result = {key: _value(context, (*path, key), key, value) for key, value in raw.items()}
    kind = deployment_trigger_type(result)
    if kind not in _MODELS:
        where = (*path, "type")
        context.warn(
            where, f"trigger left out: unknown type '{kind}'; expected one of: {', '.join(_MODELS)}"
        )
        return None
    return _checked(context, path, _durations(result), _MODELS[kind])


def _value(context: Context, path: DocPath, key: str, value: Any) -> Any:
    if key == "parameters":
        return context.data(path, value, in_run_parameters=True)
    return context.data(path, value, in_job_variables=key == "job_variables")


def _durations(trigger: dict[str, Any]) -> dict[str, Any]:
    """`within` and `schedule_after` (and a metric's `range` and `firing_for`) in seconds,
    in nested triggers too; a value that is not a duration is left for the check."""
    result = {
        key: _seconds(value) if key in ("within", "schedule_after") else value
        for key, value in trigger.items()
    }
    if isinstance(result.get("metric"), dict):
        metric = result["metric"]
        result["metric"] = {
            key: _seconds(value) if key in ("range", "firing_for") else value
            for key, value in metric.items()
        }
    if isinstance(result.get("triggers"), list):
        result["triggers"] = [
            _durations(t) if isinstance(t, dict) else t for t in result["triggers"]
        ]
    return result


def _seconds(value: Any) -> Any:
    if not isinstance(value, str) or _VARIABLE.search(value):
        return value
    try:
        seconds = _TIMEDELTA.validate_python(value).total_seconds()
    except pydantic.ValidationError:
        return value
    return int(seconds) if seconds.is_integer() else seconds


def _checked(
    context: Context, path: DocPath, trigger: dict[str, Any], model: type[pydantic.BaseModel]
) -> dict[str, Any] | None:
    """The trigger without its unknown keys, or None when the schema refuses it."""
    while problems := _problems(context, path, trigger, model):
        unknown = [(at, p) for at, p, is_key in problems if is_key]
        if not unknown:
            for at, problem, _ in problems:
                context.warn((*path, *at), f"trigger left out: {problem.message}")
            return None
        for at, problem in unknown:
            hint = problem.message.rpartition("; ")[2]
            context.warn(
                (*path, *at),
                f"'{at[-1]}' left out: not a trigger field (prefect deploy ignores it); {hint}",
                key=True,
            )
            _at(trigger, at[:-1]).pop(at[-1])
    return trigger


def _problems(
    context: Context, path: DocPath, trigger: dict[str, Any], model: type[pydantic.BaseModel]
) -> list[tuple[DocPath, Problem, bool]]:
    """(path in the trigger, problem, is it an unknown key), without those about a value
    that takes a ${VAR} (checked when flowfleet loads it, with the variable set)."""
    try:
        model.model_validate(trigger)
        return []
    except pydantic.ValidationError as exc:
        problems = problems_from(exc, model, _part(context.document, path, trigger))
    found = []
    for at, problem in problems:
        value = _at(trigger, at)
        if isinstance(value, str) and _VARIABLE.search(value):
            continue
        parent = _at(trigger, at[:-1])
        unknown = f"unknown key '{at[-1]}';" in problem.message if at else False
        found.append((at, problem, unknown and isinstance(parent, dict) and at[-1] in parent))
    return found


def _part(document: Document, path: DocPath, data: Any) -> Document:
    """The part of `document` at `path`, holding `data`, with the positions of its values."""
    size = len(path)
    return Document(
        document.file,
        data,
        marks={p[size:]: m for p, m in document.marks.items() if p[:size] == path},
        key_marks={p[size:]: m for p, m in document.key_marks.items() if p[:size] == path},
    )


def _at(data: Any, path: DocPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
