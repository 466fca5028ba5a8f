"""Config + environment → the work pools, variables, concurrency limits and blocks of that
environment. Pure: base job templates come in through `read_template`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from flowfleet.config.automations import AutomationSettings, AutomationSpec
from flowfleet.config.load import LoadedConfig
from flowfleet.model.resources import (
    Automation,
    Block,
    ConcurrencyLimit,
    Infrastructure,
    Variable,
    WorkPool,
    WorkQueue,
)
from flowfleet.render.automations import action_json, trigger_json
from flowfleet.render.deployments import deep_merge, plain, substitute

# (template reference from the config, pool type) → the template as data
ReadTemplate = Callable[[str | dict[str, Any] | None, str], dict[str, Any]]
S = TypeVar("S", bound=BaseModel)


def render_infrastructure(
    loaded: LoadedConfig, environment: str, read_template: ReadTemplate
) -> Infrastructure:
    """The infrastructure that exists in `environment`, `{env}` substituted."""
    config = loaded.config
    names = {"env": environment}
    return Infrastructure(
        work_pools=tuple(
            _work_pool(substitute(name, names), values, read_template)
            for name, values in _in_environment(config.work_pools, environment, names)
        ),
        variables=tuple(
            Variable(
                name=substitute(n, names), value=v.get("value"), tags=tuple(v.get("tags") or ())
            )
            for n, v in _in_environment(config.variables, environment, names)
        ),
        concurrency_limits=tuple(
            ConcurrencyLimit(
                name=substitute(n, names),
                limit=v.get("limit", 1),
                active=v.get("active", True),
                slot_decay_per_second=v.get("slot_decay_per_second"),
            )
            for n, v in _in_environment(config.concurrency_limits, environment, names)
        ),
        blocks=tuple(
            Block(
                name=substitute(n, names),
                type=v.get("type", ""),
                fields=v.get("fields") or {},
                secret_fields=_from_environment(loaded, n, environment),
            )
            for n, v in _in_environment(config.blocks, environment, names)
        ),
        automations=render_automations(config.automations, environment),
    )


def _in_environment(
    specs: Mapping[str, BaseModel], environment: str, names: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """(name, merged values) of each resource that exists in `environment`."""
    result = []
    for name, spec in specs.items():
        where = getattr(spec, "environments", None)
        if where is not None and environment not in where:
            continue
        values = spec.model_dump(exclude_none=True, exclude={"environments"})
        if isinstance(where, Mapping) and where.get(environment) is not None:
            values = deep_merge(values, where[environment].model_dump(exclude_none=True))
        result.append((name, plain(substitute(values, names))))
    return result


def _from_environment(loaded: LoadedConfig, block: str, environment: str) -> tuple[str, ...]:
    """The block's fields whose values came from `${VAR}`: secrets, never printed."""
    bases = [("blocks", block, "fields"), ("blocks", block, "environments", environment, "fields")]
    found = {
        path[len(base)]
        for path in loaded.document.substituted
        for base in bases
        if path[: len(base)] == base and len(path) > len(base)
    }
    return tuple(sorted(str(key) for key in found))


def _work_pool(name: str, values: dict[str, Any], read_template: ReadTemplate) -> WorkPool:
    pool_type = values.get("type", "process")
    template = with_defaults(
        read_template(values.get("base_job_template"), pool_type), values.get("job_variables", {})
    )
    queues = tuple(
        WorkQueue(name=queue, **(spec or {}))
        for queue, spec in (values.get("queues") or {}).items()
    )
    return WorkPool(
        name=name,
        type=pool_type,
        base_job_template=template,
        description=values.get("description"),
        concurrency_limit=values.get("concurrency_limit"),
        paused=values.get("paused", False),
        queues=queues,
    )


def with_defaults(template: dict[str, Any], job_variables: Mapping[str, Any]) -> dict[str, Any]:
    """The template with the pool's job variables as the variables' defaults (how Prefect
    keeps pool-level job variables). Unknown names are left out (validate reports them)."""
    result = copy.deepcopy(template)
    properties = result.get("variables", {}).get("properties", {})
    for key, value in job_variables.items():
        if key in properties:
            properties[key]["default"] = value
    return result


def render_automations(
    specs: Mapping[str, AutomationSpec], environment: str
) -> tuple[Automation, ...]:
    """The standalone automations that exist in `environment` (with a trigger and an
    action: validate reports those without), `{env}` substituted."""
    result = []
    for name, values in in_environment(specs, environment):
        acts = values.actions or values.actions_on_trigger or values.actions_on_resolve
        if values.trigger is None or not acts:
            continue
        automation = Automation(
            name=name,
            description=values.description or "",
            enabled=values.enabled is not False,
            tags=tuple(values.tags or ()),
            trigger=trigger_json(values.trigger),
            actions=tuple(action_json(a) for a in values.actions or ()),
            actions_on_trigger=tuple(action_json(a) for a in values.actions_on_trigger or ()),
            actions_on_resolve=tuple(action_json(a) for a in values.actions_on_resolve or ()),
        )
        data = substitute(automation.model_dump(), {"env": environment})
        result.append(Automation.model_validate(data))
    return tuple(result)


def in_environment(
    specs: Mapping[str, AutomationSpec], environment: str
) -> list[tuple[str, AutomationSettings]]:
    """(name, settings) of each automation in `environment`: an environment's settings
    replace the automation's own field by field."""
    result = []
    for name, spec in specs.items():
        where = spec.environments
        if where is not None and environment not in where:
            continue
        override = where.get(environment) if isinstance(where, Mapping) else None
        fields = {k: getattr(spec, k) for k in spec.model_fields_set if k != "environments"}
        if override is not None:
            fields |= {k: getattr(override, k) for k in override.model_fields_set}
        result.append((substitute(name, {"env": environment}), AutomationSettings(**fields)))
    return result
