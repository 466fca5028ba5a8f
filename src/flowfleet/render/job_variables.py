"""Job variables against the base job template of their work pool, offline.

A work pool's base job template declares its job variables in `variables.properties`, each
with a JSON schema. Every key set in a deployment's `work_pool.job_variables`, or in a
declared pool's own `job_variables` (the pool-level defaults), must be one of them and
match its schema. Only pools declared in the config for the environment are known
offline: job variables of deployments on any other pool are not checked.

Like the Prefect server, required variables are not enforced (a flow run may still supply
them) and `null` is accepted for an optional variable.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from flowfleet.config.document import DocPath
from flowfleet.config.load import LoadedConfig

# The wording of parameter problems, reused so that both read alike.
from flowfleet.flows.messages import _describe, _found
from flowfleet.model.resources import Infrastructure, WorkPool
from flowfleet.render.deployments import Rendered, deep_merge, key_paths, plain, substitute

# Where in the config (and whether at the key rather than the value), and what is wrong.
Finding = tuple[DocPath, bool, str]
_PREFIX = "work_pool.job_variables"


def job_variable_problems(
    loaded: LoadedConfig,
    environment: str,
    rendered: Iterable[Rendered],
    infrastructure: Infrastructure,
) -> Iterator[Finding]:
    """(path, at the key?, message) for every unknown or ill-typed job variable."""
    declared = _declared_names(loaded, environment)
    for name, values, origins in _pool_defaults(loaded, environment):
        pool = infrastructure.pool(substitute(name, {"env": environment}))
        if pool is not None:
            yield from _check(pool, name, values, origins)
    for item in rendered:
        pool = infrastructure.pool(item.deployment.work_pool_name)
        if pool is None:
            continue  # a pool declared elsewhere: its template is unknown offline
        values = item.deployment.job_variables
        origins = {key: item.origin(f"{_PREFIX}.{key}") for key in values}
        origins.update(
            (name.removeprefix(f"{_PREFIX}."), path)
            for name, path in item.origins.items()
            if name.startswith(f"{_PREFIX}.")
        )
        yield from _check(pool, declared[pool.name], values, origins)


def _declared_names(loaded: LoadedConfig, environment: str) -> dict[str, str]:
    """Pool name in `environment` → the name as written in the config (`ecs-{env}`), so
    that a problem shared by every environment is reported once."""
    names = {"env": environment}
    return {substitute(name, names): name for name in loaded.config.work_pools}


def _pool_defaults(
    loaded: LoadedConfig, environment: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, DocPath]]]:
    """(name, job variables, path of every key) of each pool declared in `environment`."""
    for name, spec in loaded.config.work_pools.items():
        where = spec.environments
        if where is not None and environment not in where:
            continue
        layers: list[tuple[DocPath, Mapping[str, Any] | None]] = [
            (("work_pools", name, "job_variables"), spec.job_variables)
        ]
        override = where.get(environment) if isinstance(where, Mapping) else None
        if override is not None:
            at = ("work_pools", name, "environments", environment, "job_variables")
            layers.append((at, override.job_variables))
        values: dict[str, Any] = {}
        origins: dict[str, DocPath] = {}
        for path, given in layers:
            values = deep_merge(values, given or {})
            origins.update((k.removeprefix("."), p) for k, p in key_paths("", path, given or {}))
        if values:
            yield name, plain(substitute(values, {"env": environment})), origins


def _check(
    pool: WorkPool, written: str, values: Mapping[str, Any], origins: Mapping[str, DocPath]
) -> Iterator[Finding]:
    variables = pool.base_job_template.get("variables")
    if not isinstance(variables, dict) or not isinstance(variables.get("properties"), dict):
        return  # no template (unreadable, or an unknown worker type): reported elsewhere
    schemas = _SchemaSet(variables)
    for key, value in values.items():
        head, *rest = key.split(".")  # Prefect sets `env.NAME` inside `env`
        if head not in schemas.properties:
            yield origins[key], True, _unknown(pool, written, key, list(schemas.properties))
            continue
        for step in reversed(rest):
            value = {step: value}
        error = schemas.error(head, value)
        if error is not None:
            steps, expected, found = error
            where = head + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
            path = _deepest(origins, key, where)
            message = f"job variable '{where}' of work pool '{written}': "
            yield path, False, message + f"expected {expected}, found {_found(found)}"


def _deepest(origins: Mapping[str, DocPath], key: str, where: str) -> DocPath:
    """The path of the innermost key of `where` that the config wrote, else of `key`."""
    name = where.replace("[", ".").replace("]", "")
    while name and name not in origins:
        name = name.rpartition(".")[0]
    return origins.get(name) or origins[key]


def _unknown(pool: WorkPool, written: str, key: str, known: list[str]) -> str:
    head = key.split(".")[0]
    message = f"work pool '{written}' (type {pool.type}) has no job variable '{head}'"
    close = difflib.get_close_matches(head, known, n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; its base job template declares: {', '.join(sorted(known))}"


class _SchemaSet:
    """The variables schema of one template, prepared as the Prefect server prepares it
    for deployments: `required` ignored, pydantic-v1 tuples as `prefixItems`; `$defs`
    folded into `definitions` so that every `$ref` resolves one way."""

    def __init__(self, variables: dict[str, Any]) -> None:
        normal = _normalise(variables)
        self.definitions = {**normal.get("$defs", {}), **normal.get("definitions", {})}
        self.properties: dict[str, Any] = normal["properties"]
        self.required = set(variables.get("required") or ())

    def error(self, name: str, value: Any) -> tuple[list[Any], str, Any] | None:
        """(path inside the value, what is expected there, what was found), or None."""
        schema = self.properties[name] if isinstance(self.properties[name], dict) else {}
        if value is None and name not in self.required:
            return None  # the server lets null through for optional variables
        if isinstance(value, dict) and value.keys() == {"$ref"}:
            return None  # a block document reference: the worker resolves it
        import jsonschema  # lazily: only configs that declare pools need it

        validator = jsonschema.Draft202012Validator({**schema, "definitions": self.definitions})
        errors = list(validator.iter_errors(value))
        if not errors:
            return None
        # The innermost error; for a union the union itself, not a guess at one member.
        error = max(errors, key=lambda e: len(e.absolute_path))
        return list(error.absolute_path), _describe(error.schema, self.definitions), error.instance


def _normalise(node: Any) -> Any:
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "required" and isinstance(value, list):
            continue
        if key == "$ref" and isinstance(value, str):
            value = value.replace("#/$defs/", "#/definitions/")
        if key == "items" and isinstance(value, list):
            key = "prefixItems"
        result[key] = _normalise(value)
    return result
