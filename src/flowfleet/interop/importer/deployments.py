"""One prefect.yaml deployment → one flowfleet deployment entry."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from flowfleet.config.document import DocPath
from flowfleet.interop.importer.context import Context
from flowfleet.interop.importer.schedules import schedules
from flowfleet.interop.importer.triggers import triggers

# prefect.yaml keys with no flowfleet counterpart: said once per key and deployment.
_LEFT_OUT = {
    "sla": "'sla' left out: flowfleet does not manage SLAs",
    "version_type": "'version_type' left out: flowfleet sends the version as written",
}
# Handled elsewhere or ignored by prefect deploy itself (it sets flow_name from the flow).
_ELSEWHERE = {"build", "push", "flow_name", "schedule", "schedules"}
_FIELDS = (
    "name",
    "entrypoint",
    "description",
    "version",
    "tags",
    "parameters",
    "work_pool",
    "pull",
    "concurrency_limit",
    "paused",
    "enforce_parameter_schema",
    "triggers",
)


def deployment(context: Context, index: int, raw: Any) -> dict[str, Any]:
    """The flowfleet entry of `deployments[index]`, keys in the order flowfleet documents."""
    path: DocPath = ("deployments", index)
    if not isinstance(raw, dict):
        raise context.error(path, "each deployment must be a mapping with name and entrypoint")
    result: dict[str, Any] = {
        "name": _required(context, path, raw, "name"),
        "entrypoint": _required(context, path, raw, "entrypoint"),
        "description": context.text((*path, "description"), raw.get("description"), "description"),
        "version": context.text((*path, "version"), raw.get("version"), "version"),
        "tags": _tags(context, (*path, "tags"), raw.get("tags")),
        "parameters": _mapping_data(context, (*path, "parameters"), raw.get("parameters")),
        "schedules": schedules(context, path, raw),
        "work_pool": _work_pool(context, (*path, "work_pool"), raw.get("work_pool")),
        "pull_steps": pull_steps(context, (*path, "pull"), raw.get("pull")),
        "concurrency_limit": _concurrency_limit(
            context, (*path, "concurrency_limit"), raw.get("concurrency_limit")
        ),
        "paused": context.boolean((*path, "paused"), raw.get("paused"), "paused"),
        "enforce_parameter_schema": context.boolean(
            (*path, "enforce_parameter_schema"),
            raw.get("enforce_parameter_schema"),
            "enforce_parameter_schema",
        ),
        "triggers": triggers(context, (*path, "triggers"), raw.get("triggers")),
    }
    _other_keys(context, path, raw)
    _check_entrypoint(context, (*path, "entrypoint"), result["entrypoint"])
    return {key: value for key, value in result.items() if _given(key, value)}


def _check_entrypoint(context: Context, path: DocPath, entrypoint: str) -> None:
    written = entrypoint.rpartition(":")[0] or entrypoint
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).is_absolute():
        context.warn(
            path,
            f"entrypoint {entrypoint!r} is an absolute path of the machine prefect deploy ran"
            " on; flowfleet needs it relative to the project folder (the folder of"
            " flowfleet.yaml): rewrite it, e.g. 'flows/etl.py:my_flow'",
        )


def _given(key: str, value: Any) -> bool:
    """Empty values are left out; `pull_steps: []` is kept: it means "no pull steps"."""
    return value is not None and (value not in ({}, []) or key == "pull_steps")


def pull_steps(context: Context, path: DocPath, raw: Any) -> list[Any] | None:
    """Pull steps: a list of one-key mappings (a single mapping counts as a list of one, as in
    prefect deploy). None: not given (inherit); []: explicitly none."""
    if raw is None or raw == {}:  # prefect deploy falls back to the top-level pull then
        return None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise context.error(
            path,
            "pull steps must be a list of steps like "
            "'- prefect.deployments.steps.git_clone: {...}'",
        )
    for i, step in enumerate(raw):
        if not isinstance(step, dict):
            raise context.error((*path, i), "a pull step must be a mapping: {step function: {...}}")
    result: list[Any] = context.data(path, raw, in_pull_step=True)
    return result


def _required(context: Context, path: DocPath, raw: dict[str, Any], key: str) -> str:
    value = context.text((*path, key), raw.get(key), key)
    if not value:
        where = (*path, key) if key in raw else path
        raise context.error(
            where,
            f"this deployment has no {key}; prefect deploy would ask for it, flowfleet needs it "
            "written down",
        )
    return value


def _mapping_data(
    context: Context, path: DocPath, raw: Any, *, in_job_variables: bool = False
) -> dict[str, Any]:
    mapping = context.mapping(path, raw, str(path[-1]))
    result: dict[str, Any] = context.data(path, mapping, in_job_variables=in_job_variables)
    return result


def _tags(context: Context, path: DocPath, raw: Any) -> list[Any] | None:
    if raw is None or raw == []:
        return None
    if isinstance(raw, str):
        context.warn(path, "'tags' is one text, not a list; written as a list of one tag")
        raw = [raw]
    if not isinstance(raw, list):
        raise context.error(path, "tags must be a list of texts")
    return [context.text((*path, i), tag, "a tag") for i, tag in enumerate(raw)]


def _work_pool(context: Context, path: DocPath, raw: Any) -> dict[str, Any] | None:
    pool = context.mapping(path, raw, "work_pool")
    result = {
        "name": context.text((*path, "name"), pool.get("name"), "the work pool name"),
        "work_queue_name": context.text(
            (*path, "work_queue_name"), pool.get("work_queue_name"), "the work queue name"
        ),
        "job_variables": _mapping_data(
            context, (*path, "job_variables"), pool.get("job_variables"), in_job_variables=True
        ),
    }
    for key in pool.keys() - result.keys():
        context.warn(
            (*path, key), f"'{key}' left out: prefect deploy ignores it in work_pool", key=True
        )
    return {k: v for k, v in result.items() if v not in (None, {})} or None


def _concurrency_limit(context: Context, path: DocPath, raw: Any) -> Any:
    """A number stays a number; Prefect's mapping keeps its options (a mapping with only a
    limit becomes the number)."""
    if not isinstance(raw, dict):
        return context.data(path, raw)
    options = {
        key: context.data((*path, key), raw[key])
        for key in ("limit", "collision_strategy", "grace_period_seconds")
        if raw.get(key) is not None
    }
    for key in raw.keys() - {"limit", "collision_strategy", "grace_period_seconds"}:
        context.warn((*path, key), f"'{key}' left out: prefect deploy ignores it", key=True)
    if "limit" not in options:
        if len(options):
            context.warn(
                path,
                "'concurrency_limit' left out: it has no 'limit', so prefect deploy sets "
                "no concurrency limit either",
            )
        return None
    return options if len(options) > 1 else options["limit"]


def _other_keys(context: Context, path: DocPath, raw: dict[str, Any]) -> None:
    for key, value in raw.items():
        if key in _FIELDS or key in _ELSEWHERE or value is None:
            continue
        message = _LEFT_OUT.get(key, f"'{key}' left out: not a prefect.yaml deployment field")
        context.warn((*path, key), message, key=True)
