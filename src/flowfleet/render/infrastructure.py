"""Config + environment → the work pools, variables, concurrency limits and blocks of that
environment. Pure: base job templates come in through `read_template`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from flowfleet.config.load import LoadedConfig
from flowfleet.model.resources import (
    Block,
    ConcurrencyLimit,
    Infrastructure,
    Variable,
    WorkPool,
    WorkQueue,
)
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
