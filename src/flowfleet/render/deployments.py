"""Config + environment → the fully resolved deployments of that environment. Pure.

Layering, lowest first: `defaults` → the deployment entry → `environments.<env>.overrides`
→ the entry's own `environments.<env>`. Mappings merge key by key, lists replace, tags
are unioned. Then `{env}` and matrix keys are substituted in every string.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowfleet.config.document import DocPath, YamlFloat, YamlInt
from flowfleet.config.load import LoadedConfig
from flowfleet.config.models import DeploymentEntry, Settings
from flowfleet.config.models import Schedule as ScheduleEntry
from flowfleet.model.resources import Automation, ConcurrencyOptions, Deployment, Schedule
from flowfleet.render.automations import deployment_triggers

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FlowNames = Callable[[str], str]


@dataclass(frozen=True)
class Rendered:
    """A resolved deployment and, per field, the config path that set it."""

    deployment: Deployment
    entry: DocPath
    origins: Mapping[str, DocPath] = field(default_factory=dict)

    def origin(self, name: str) -> DocPath:
        """The path of the layer that set field `name` (or of the entry)."""
        return self.origins.get(name, self.entry)


def default_flow_name(entrypoint: str) -> str:
    """The flow name Prefect derives from the function name."""
    return entrypoint.rpartition(":")[2].replace("_", "-")


def render(
    loaded: LoadedConfig, environment: str, flow_names: FlowNames = default_flow_name
) -> list[Rendered]:
    """Every deployment of `environment`, in config order, matrix combinations expanded."""
    config = loaded.config
    env = config.environments[environment]
    result: list[Rendered] = []
    for index, entry in enumerate(config.deployments):
        if entry.environments is not None and environment not in entry.environments:
            continue
        layers = [
            (("defaults",), config.defaults),
            (("deployments", index), entry),
            (("environments", environment, "overrides"), env.overrides),
            (
                ("deployments", index, "environments", environment),
                (entry.environments or {}).get(environment),
            ),
        ]
        merged = _merge(layers)
        for values in _matrix(entry):
            names = {"env": environment, **values}
            result.append(_resolve(entry, index, merged, names, flow_names))
    return result


@dataclass
class _Merged:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, DocPath] = field(default_factory=dict)


def _merge(layers: list[tuple[DocPath, Settings | None]]) -> _Merged:
    merged = _Merged()
    for path, layer in layers:
        if layer is None:
            continue
        for name in layer.model_fields_set & Settings.model_fields.keys():
            value = getattr(layer, name)
            if value is None:
                continue
            _merge_field(merged, name, value, (*path, name))
    return merged


def _merge_field(merged: _Merged, name: str, value: Any, path: DocPath) -> None:
    current = merged.values.get(name)
    if name in ("tags", "secret_env"):
        merged.values[name] = list(dict.fromkeys([*(current or []), *value]))
    elif name == "parameters":
        merged.values[name] = deep_merge(current or {}, value)
        merged.origins.update({f"parameters.{key}": (*path, key) for key in value})
    elif name == "work_pool":
        given = value.model_dump(exclude_none=True)
        merged.values[name] = deep_merge(current or {}, given)
        merged.origins.update({f"work_pool.{key}": (*path, key) for key in given})
        at = (*path, "job_variables")
        merged.origins.update(
            key_paths("work_pool.job_variables", at, given.get("job_variables", {}))
        )
    elif name == "concurrency_limit":
        # A number sets the limit only: a strategy from a lower layer stays.
        given = {"limit": value} if isinstance(value, int) else value.model_dump(exclude_none=True)
        merged.values[name] = {**(current or {}), **given}
        merged.origins.update({f"concurrency_limit.{key}": (*path, key) for key in given})
    else:
        merged.values[name] = value
    merged.origins[name] = path


def key_paths(
    prefix: str, path: DocPath, mapping: Mapping[str, Any]
) -> Iterator[tuple[str, DocPath]]:
    """`prefix.key` → config path of every key in `mapping`, nested mappings' keys too."""
    for key, value in mapping.items():
        yield f"{prefix}.{key}", (*path, key)
        if isinstance(value, Mapping):
            yield from key_paths(f"{prefix}.{key}", (*path, key), value)


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`, mappings merged key by key, everything else replaced."""
    result = dict(base)
    for key, value in top.items():
        old = result.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            result[key] = deep_merge(old, value)
        else:
            result[key] = value
    return result


def _matrix(entry: DeploymentEntry) -> Iterator[dict[str, Any]]:
    matrix = entry.matrix or {}
    keys = list(matrix)
    for combination in itertools.product(*(matrix[k] for k in keys)):
        yield dict(zip(keys, combination, strict=True))


def _resolve(
    entry: DeploymentEntry,
    index: int,
    merged: _Merged,
    names: Mapping[str, Any],
    flow_names: FlowNames,
) -> Rendered:
    values = substitute(merged.values, names)
    pool = values.get("work_pool", {})
    limit = values.get("concurrency_limit", {})
    schedules = [
        _schedule(s, i, values.get("schedules_active"))
        for i, s in enumerate(values.get("schedules") or [])
    ]
    entrypoint = substitute(entry.entrypoint, names)
    flow_name, name = flow_names(entrypoint), substitute(entry.name, names)
    triggers = deployment_triggers(name, f"{flow_name}/{name}", merged.values.get("triggers", ()))
    deployment = Deployment(
        flow_name=flow_name,
        name=name,
        entrypoint=entrypoint,
        parameters=values.get("parameters", {}),
        schedules=tuple(substitute(schedules, names)),
        tags=tuple(values.get("tags", ())),
        version=values.get("version"),
        description=values.get("description"),
        work_pool_name=pool.get("name"),
        work_queue_name=pool.get("work_queue_name"),
        job_variables=pool.get("job_variables", {}),
        pull_steps=values.get("pull_steps"),
        paused=values.get("paused", False),
        concurrency_limit=limit.get("limit"),
        concurrency_options=concurrency_options(limit),
        enforce_parameter_schema=values.get("enforce_parameter_schema", True),
        protected=values.get("protected", False),
        secret_env=tuple(values.get("secret_env", ())),
        triggers=tuple(
            Automation.model_validate(substitute(t.model_dump(), names)) for t in triggers
        ),
    )
    entry_path: DocPath = ("deployments", index)
    origins = {
        **merged.origins,
        "name": (*entry_path, "name"),
        "entrypoint": (*entry_path, "entrypoint"),
    }
    return Rendered(deployment, entry_path, origins)


def concurrency_options(limit: Mapping[str, Any]) -> ConcurrencyOptions | None:
    """The options of a merged `concurrency_limit` mapping; None when it sets neither a
    strategy nor a grace period (a grace period alone keeps the default ENQUEUE)."""
    options = {k: limit[k] for k in ("collision_strategy", "grace_period_seconds") if k in limit}
    return ConcurrencyOptions.model_validate(options) if options else None


def schedule_slug(entry: ScheduleEntry, index: int) -> str:
    """A schedule's slug: the one given, else `schedule-<position>` (from 1)."""
    return entry.slug or f"schedule-{index + 1}"


def _schedule(entry: ScheduleEntry, index: int, active: bool | None) -> Schedule:
    anchor = entry.anchor_date.isoformat() if entry.anchor_date else None
    return Schedule(
        slug=schedule_slug(entry, index),
        replaces=entry.replaces,
        cron=entry.cron,
        interval=int(entry.interval)
        if entry.interval and entry.interval.is_integer()
        else entry.interval,
        rrule=entry.rrule,
        timezone=entry.timezone or "UTC",
        anchor_date=anchor,
        day_or=(True if entry.day_or is None else entry.day_or) if entry.cron else None,
        active=active if active is not None else entry.active is not False,
        parameters=plain(entry.parameters or {}),
        max_scheduled_runs=entry.max_scheduled_runs,
    )


def substitute(value: Any, names: Mapping[str, Any]) -> Any:
    """Replace `{key}` for every known key in every string inside `value`.

    A string that is exactly one placeholder takes the value itself, so a matrix of
    numbers gives numbers: `{size}` with size 3 is 3, `n{size}` is "n3".
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in names:
            return names[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(names.get(m.group(1), m.group(0))), value)
    if isinstance(value, Mapping):
        return {k: substitute(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [substitute(v, names) for v in value]
    if isinstance(value, Schedule):
        return Schedule.model_validate(substitute(value.model_dump(), names))
    return plain(value)


def plain(value: Any) -> Any:
    """Loader number types → plain int/float, recursively (for stable JSON)."""
    if isinstance(value, YamlInt):
        return int(value)
    if isinstance(value, YamlFloat):
        return float(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
