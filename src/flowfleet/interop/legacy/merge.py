"""Per-environment deployment lists → one config's layers, exactly equivalent. Pure.

Rendering layers, lowest first: `defaults` → the entry → `environments.<env>.overrides` →
the entry's `environments.<env>`. So that every environment renders exactly as its old
file did (values, and the order of tags and parameter keys), each value is given by one
layer only:

- a single value (version, a schedule list, the pool's name, ...) goes to the lowest layer
  where everything under it agrees: `defaults` when every deployment of every environment
  has it, else `overrides` when every deployment of one environment has it, else the entry
  when each environment it is in (not already covered) has it, else the entry's
  environment;
- tags and parameters (whose layers add up, in order) are split into consecutive runs:
  the run every deployment starts with goes to `defaults`, then the entry's common run,
  then the environment's, then what is left.

`defaults` and `overrides` take only what two or more deployments share.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# (dotted field, kind): the flowfleet settings an old deployment can have, in output order
SINGLE = ("schedules", "version", "description", "work_pool.name", "work_pool.work_queue_name")
RUNS = ("tags", "parameters", "work_pool.job_variables")
LAST = ("protected",)
FIELDS = ("tags", "parameters", *SINGLE, "work_pool.job_variables", *LAST)


@dataclass(frozen=True)
class OldDeployment:
    """One deployment of one environment, in flowfleet terms: `values` maps a dotted field
    to its value (a list of tags, a list of (key, value) for parameters and job variables)."""

    name: str
    entrypoint: str
    values: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.entrypoint)


@dataclass
class _Entry:
    name: str
    entrypoint: str
    members: dict[str, OldDeployment] = field(default_factory=dict)  # environment → old


def merge_environments(environments: Mapping[str, Sequence[OldDeployment]]) -> dict[str, Any]:
    """`defaults`, `environments` (with their overrides) and `deployments` of the config."""
    entries = _align(environments)
    layers = _Layers(environments, entries)
    for name in FIELDS:
        if name in RUNS:
            layers.split_runs(name)
        else:
            layers.place_single(name)
    config: dict[str, Any] = {}
    defaults = _settings(layers.defaults)
    if defaults:
        config["defaults"] = defaults
    config["environments"] = {
        env: ({"overrides": o} if (o := _settings(layers.overrides[env])) else {})
        for env in environments
    }
    config["deployments"] = [layers.entry(i, e, list(environments)) for i, e in enumerate(entries)]
    return config


def _align(environments: Mapping[str, Sequence[OldDeployment]]) -> list[_Entry]:
    """One entry per deployment, shared by the environments that have it, in an order that
    keeps each environment's own order (a deployment that cannot keep it gets a second
    entry)."""
    entries: list[_Entry] = []
    for env, deployments in environments.items():
        position = 0
        for old in deployments:
            found = next(
                (
                    i
                    for i in range(position, len(entries))
                    if (entries[i].name, entries[i].entrypoint) == old.key
                    and env not in entries[i].members
                ),
                None,
            )
            if found is None:
                entries.insert(position, _Entry(old.name, old.entrypoint))
                found = position
            entries[found].members[env] = old
            position = found + 1
    return entries


class _Layers:
    """The four layers being filled, field by field."""

    def __init__(
        self, environments: Mapping[str, Sequence[OldDeployment]], entries: list[_Entry]
    ) -> None:
        self.entries = entries
        self.pairs = [(i, env) for i, e in enumerate(entries) for env in e.members]
        self.defaults: dict[str, Any] = {}
        self.overrides: dict[str, dict[str, Any]] = {env: {} for env in environments}
        self.own: list[dict[str, Any]] = [{} for _ in entries]
        self.per_env: list[dict[str, dict[str, Any]]] = [
            {env: {} for env in e.members} for e in entries
        ]

    def value(self, i: int, env: str, name: str) -> Any:
        return self.entries[i].members[env].values.get(name)

    def place_single(self, name: str) -> None:
        if not self.pairs:
            return
        found = [self.value(i, env, name) for i, env in self.pairs]
        if len(found) > 1 and _shared(found):
            self.defaults[name] = found[0]
            return
        covered = set()
        for env in self.overrides:
            mine = [self.value(i, e, name) for i, e in self.pairs if e == env]
            if len(mine) > 1 and _shared(mine):
                self.overrides[env][name] = mine[0]
                covered.add(env)
        for i, entry in enumerate(self.entries):
            left = [env for env in entry.members if env not in covered]
            mine = [self.value(i, env, name) for env in left]
            if mine and _shared(mine):
                self.own[i][name] = mine[0]
                continue
            for env, value in zip(left, mine, strict=True):
                if value is not None:
                    self.per_env[i][env][name] = value

    def split_runs(self, name: str) -> None:
        rest = {(i, env): list(self.value(i, env, name) or []) for i, env in self.pairs}
        common = _prefix(list(rest.values())) if len(rest) > 1 else []
        _put(self.defaults, name, common)
        rest = {pair: items[len(common) :] for pair, items in rest.items()}
        for i, entry in enumerate(self.entries):
            common = _prefix([rest[(i, env)] for env in entry.members])
            _put(self.own[i], name, common)
            for env in entry.members:
                rest[(i, env)] = rest[(i, env)][len(common) :]
        for env in self.overrides:
            mine = [items for (i, e), items in rest.items() if e == env]
            common = _prefix(mine) if len(mine) > 1 else []
            _put(self.overrides[env], name, common)
            for pair in [p for p in rest if p[1] == env]:
                rest[pair] = rest[pair][len(common) :]
        for (i, env), items in rest.items():
            _put(self.per_env[i][env], name, items)

    def entry(self, i: int, entry: _Entry, environments: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = {"name": entry.name, "entrypoint": entry.entrypoint}
        result.update(_settings(self.own[i]))
        per_env = {env: _settings(self.per_env[i][env]) for env in entry.members}
        if list(entry.members) != environments or any(per_env.values()):
            result["environments"] = {env: per_env[env] for env in environments if env in per_env}
        return result


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=False, default=str)


def _shared(values: list[Any]) -> bool:
    """Every value set, and all the same (type included: 1 is not 1.0 nor true)."""
    first = _canonical(values[0])
    return values[0] is not None and all(
        v is not None and _canonical(v) == first for v in values[1:]
    )


def _prefix(lists: list[list[Any]]) -> list[Any]:
    if not lists:
        return []
    shortest = min(len(items) for items in lists)
    length = 0
    while length < shortest and len({_canonical(items[length]) for items in lists}) == 1:
        length += 1
    return lists[0][:length]


def _put(layer: dict[str, Any], name: str, items: list[Any]) -> None:
    if items:
        layer[name] = items


def _settings(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted fields → the config's nested settings, in the config's usual key order."""
    result: dict[str, Any] = {}
    for name in FIELDS:
        if name not in flat:
            continue
        value = flat[name]
        if name in ("parameters", "work_pool.job_variables"):
            value = dict(value)
        head, _, tail = name.partition(".")
        if tail:
            result.setdefault(head, {})[tail] = value
        else:
            result[head] = value
    order = ("tags", "parameters", "schedules", "version", "description", "work_pool")
    return {k: result[k] for k in (*order, *LAST) if k in result}
