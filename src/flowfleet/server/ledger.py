"""Which infrastructure this project and environment own.

Work pools, queues, concurrency limits and blocks carry no tags, so ownership is kept in
one Prefect variable per project and environment: a visible list of what flowfleet
created or adopted. Prune deletes only what is listed there.
"""

from __future__ import annotations

import json
from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError
from flowfleet.server.variables import variable_name

Owned = frozenset[tuple[str, str]]


def ledger_name(project: str, environment: str) -> str:
    """`flowfleet__<project>__<environment>` (variable names allow letters, digits, - and _)."""
    return variable_name("flowfleet", project, environment)


async def read_ledger(api: Api, name: str) -> Owned:
    try:
        data = await api.call("GET", f"/variables/name/{name}")
    except ApiError as exc:
        if exc.status == 404:
            return frozenset()
        raise
    value = wire.Variable.model_validate(data).value or {}
    return frozenset((kind, item) for kind, names in value.items() for item in names)


async def write_ledger(api: Api, name: str, owned: Owned, marker: str) -> None:
    """Create or replace the ledger variable (safe to repeat: a PATCH, or a create that
    finds its own earlier write)."""
    value: dict[str, Any] = {}
    for kind, item in sorted(owned):
        value.setdefault(kind, []).append(item)
    if len(json.dumps(value)) > 5000:
        raise FlowfleetError(
            f"the ownership list '{name}' would exceed Prefect's 5,000-character variable limit"
        )
    try:
        await api.call(
            "PATCH", f"/variables/name/{name}", wire.VariableUpdate(value=value, tags=[marker])
        )
    except ApiError as exc:
        if exc.status != 404:
            raise

        async def made() -> Any:  # a create retried after a lost answer: is it there?
            try:
                found = await api.call("GET", f"/variables/name/{name}")
            except ApiError as missing:
                if missing.status == 404:
                    return None
                raise
            return found if wire.Variable.model_validate(found).value == value else None

        body = wire.VariableCreate(name=name, value=value, tags=[marker])
        await api.call("POST", "/variables/", body, lookup=made)
