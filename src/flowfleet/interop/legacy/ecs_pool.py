"""A Prefect 2 `ECSTask` block's fields → an `ecs` work pool for the installed ECS worker.
Pure.

As Prefect's own `ECSTask.generate_work_pool_base_job_template()` does: a field the worker's
template has as a variable becomes a job variable of the pool (the template's default);
`command` is joined into one text; `task_definition` replaces the template's; the
`task_customizations` that touch `networkConfiguration` become the `network_configuration`
variable and the others are applied to the template's RunTask request. Values equal to
the block's own defaults are left out, so a block read from a file (only what it sets)
and one read from a server (every field) give the same pool. A field with no counterpart
is a warning, never dropped silently.
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from flowfleet.errors import Location
from flowfleet.interop.legacy.block_file import Credentials

# ECSTask's defaults in prefect-aws 0.4 (Infrastructure's `env`, `labels` and `command` too)
BLOCK_DEFAULTS: dict[str, Any] = {
    "launch_type": "FARGATE",
    "auto_deregister_task_definition": True,
    "task_start_timeout_seconds": 120,
    "task_watch_poll_interval": 5.0,
    "env": {},
    "labels": {},
    "cloudwatch_logs_options": {},
    "task_customizations": [],
}
NOT_FIELDS = {"type", "block_type_slug", "_block_document_id", "_block_document_name"}
NO_COUNTERPART = {
    "stream_output": "the Prefect 3 ECS worker does not stream a task's output (its logs "
    "are in CloudWatch with configure_cloudwatch_logs)",
    "task_start_timeout_seconds": "the Prefect 3 ECS worker does not wait for the task to start",
    "task_watch_poll_interval": "the Prefect 3 ECS worker does not watch the task",
}


@dataclass(frozen=True)
class OnServer:
    """Where a block read from a server is: a server's value has no file:line."""

    environment: str
    url: str

    def __str__(self) -> str:
        return f"environment '{self.environment}' ({self.url})"


Where = Location | OnServer | None


@dataclass
class EcsPool:
    """The pool's `work_pools:` entry (without `environments`) and the warnings."""

    spec: dict[str, Any] = field(default_factory=lambda: {"type": "ecs"})
    warnings: list[tuple[Where, str]] = field(default_factory=list)


def ecs_pool(
    block: str, fields: Mapping[str, tuple[Any, Where]], template: dict[str, Any]
) -> EcsPool:
    """The pool made from block `block`'s `fields` (value, where it is written), for the
    installed worker's default base job template `template`."""
    pool = EcsPool()
    variables: dict[str, Any] = {}
    custom = copy.deepcopy(template)
    known = set(template.get("variables", {}).get("properties", {}))
    for name, (value, where) in fields.items():
        if name in NOT_FIELDS or name.startswith("_") or _is_default(name, value):
            continue
        if name in NO_COUNTERPART:
            pool.warnings.append((where, _left_out(block, name, NO_COUNTERPART[name])))
        elif name == "aws_credentials":
            _credentials(block, value, where, variables, pool)
        elif name == "task_definition":
            custom["job_configuration"]["task_definition"] = value
        elif name == "task_customizations":
            _customizations(block, value, where, variables, custom, pool)
        elif name in known:
            variables[name] = (
                shlex.join(value) if name == "command" and isinstance(value, list) else value
            )
        else:
            pool.warnings.append(
                (where, _left_out(block, name, "the ECS worker has no such job variable"))
            )
    if "network_configuration" in variables and "vpc_id" not in variables:
        where = fields["task_customizations"][1]
        pool.warnings.append(
            (
                where,
                f"ECSTask '{block}': the Prefect 3 ECS worker takes a network configuration "
                "only with a vpc_id (the subnets must belong to it): set vpc_id in the "
                "pool's job_variables",
            )
        )
    if variables:
        pool.spec["job_variables"] = variables
    if custom != template:
        pool.spec["base_job_template"] = custom
    return pool


def _is_default(name: str, value: Any) -> bool:
    if value is None:
        return True
    return name in BLOCK_DEFAULTS and json.dumps(value) == json.dumps(BLOCK_DEFAULTS[name])


def _left_out(block: str, name: str, why: str) -> str:
    return (
        f"ECSTask '{block}': field '{name}' has no counterpart in an ecs work pool ({why}); "
        "it is left out"
    )


def _credentials(
    block: str, value: Any, where: Where, variables: dict[str, Any], pool: EcsPool
) -> None:
    if isinstance(value, Credentials):
        if value.name is not None:
            variables["aws_credentials"] = f"{{{{ prefect.blocks.aws-credentials.{value.name} }}}}"
        return
    if isinstance(value, str):  # a server's block reference, already by name
        variables["aws_credentials"] = value
        return
    if isinstance(value, dict) and _unset_credentials(value):
        return  # AwsCredentials() with nothing set: the worker's own AWS credentials
    pool.warnings.append(
        (
            where,
            f"ECSTask '{block}': aws_credentials are given inline; save them as an "
            "aws-credentials block and set the pool's job variable aws_credentials to "
            "'{{ prefect.blocks.aws-credentials.NAME }}'; they are left out",
        )
    )


def _unset_credentials(value: dict[str, Any]) -> bool:
    """An inline AwsCredentials with nothing set (as a server stores `AwsCredentials()`:
    every field null, the client parameters at their defaults, the type's slug)."""
    client = value.get("aws_client_parameters") or {}
    return (
        not any(
            v for k, v in value.items() if k not in ("block_type_slug", "aws_client_parameters")
        )
        and not any(v for k, v in client.items() if k != "use_ssl")
        and client.get("use_ssl", True)
    )


def _customizations(
    block: str,
    value: Any,
    where: Where,
    variables: dict[str, Any],
    custom: dict[str, Any],
    pool: EcsPool,
) -> None:
    patches = json.loads(value) if isinstance(value, str) else value
    if not isinstance(patches, list) or not all(
        isinstance(p, dict) and "path" in p for p in patches
    ):
        pool.warnings.append(
            (
                where,
                f"ECSTask '{block}': task_customizations is not a list of JSON patches; "
                "it is left out",
            )
        )
        return
    network = [p for p in patches if "networkConfiguration" in str(p["path"])]
    others = [p for p in patches if p not in network]
    try:
        if network:
            document = jsonpatch.JsonPatch(network).apply(_document_for(network))
            variables["network_configuration"] = document["networkConfiguration"][
                "awsvpcConfiguration"
            ]
        if others:
            request = custom["job_configuration"]["task_run_request"]
            custom["job_configuration"]["task_run_request"] = jsonpatch.JsonPatch(others).apply(
                request
            )
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        KeyError,
        TypeError,
    ) as exc:
        pool.warnings.append(
            (
                where,
                f"ECSTask '{block}': task_customizations cannot be applied to the ECS worker's "
                f"template ({exc}); they are left out: edit the pool's base_job_template",
            )
        )


def _document_for(patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The smallest document each patch applies to (as prefect-aws assembles it)."""
    document: dict[str, Any] = {}
    for patch in patches:
        path = str(patch["path"]).lstrip("/").split("/")
        parents = path[:-1] if patch.get("op") == "add" else path
        node = document
        for part in parents:
            node = node.setdefault(part, {})
    return document
