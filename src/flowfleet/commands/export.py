"""export --env E: the deployments, work pools and automations on a server as flowfleet.yaml.

The connection comes from the options (`--api-url`, `--api-key-env`, `--local`) or, like
Prefect's own CLI, from the Prefect settings in force; the exported environment says the
same, so that `plan --adopt` of the file talks to the same server.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowfleet._aio import run
from flowfleet.commands.common import write_new_file
from flowfleet.config.load import project_slug
from flowfleet.errors import FlowfleetError
from flowfleet.interop.export import ServerState, dump_export, export_config, read_server
from flowfleet.interop.export_prefect2 import export_prefect2_config
from flowfleet.interop.scaffold.ecs import ecs_base_job_template
from flowfleet.model.versions import parse_version
from flowfleet.output.console import err, out
from flowfleet.server.api import connect
from flowfleet.server.connection import resolve_target
from flowfleet.server.read import read_server_version
from flowfleet.server.read_prefect2 import Prefect2State, read_prefect2

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def run_export(
    environment: str,
    *,
    flows: Sequence[str],
    project: str | None,
    api_url: str | None,
    api_key_env: str | None,
    local: bool,
    output: Path | None,
    force: bool,
) -> int:
    """Exit 0 when exported (warnings or not); every problem is a FlowfleetError."""
    _check_name("--env", environment, "environment")
    if output is not None and output.exists() and not force:
        raise FlowfleetError(f"{output} exists; pass --force to overwrite it")
    root = (output.parent if output is not None else Path.cwd()).resolve()
    name = project or project_slug(root.name, fallback="project")
    _check_name("--project", name, "project")
    connection = _connection(api_url, api_key_env, local)
    target = resolve_target(root, environment, _environment(connection), start_local=True)
    state = run(_read(target, flows))
    if isinstance(state, Prefect2State):
        template, _ = ecs_base_job_template()
        config, warnings = export_prefect2_config(
            name, environment, connection, state, template, _default_template, url=target.url
        )
    else:
        config, warnings = export_config(name, environment, connection, state, _default_template)
    if not state.deployments:
        warnings.append(
            f"no deployments on {target.url}"
            + (f" of flow(s) {', '.join(flows)}" if flows else "")
            + "; the file declares none"
        )
    for warning in warnings:
        err(f"warning: {warning}")
    text = dump_export(config, environment, f"{target.url} ({environment})")
    if output is None:
        sys.stdout.write(text)
        return 0
    write_new_file(output, text, force=force)
    count, pools = len(config["deployments"]), len(config.get("work_pools", {}))
    automations = len(config.get("automations", {}))
    automations += sum(len(d.get("triggers", ())) for d in config["deployments"])
    also = f", {automations} automation(s)" if automations else ""
    out(f"wrote {output}: {count} deployment(s), {pools} work pool(s){also} from {target.url}")
    return 0


async def _read(target: Any, flows: Sequence[str]) -> ServerState | Prefect2State:
    """A Prefect 2.x server (by its version) is read in its own terms."""
    async with connect(target) as api:
        version = parse_version(await read_server_version(api))
        if version is not None and version[0] < 3:
            return await read_prefect2(api, flows)
        return await read_server(api, flows)


def _connection(api_url: str | None, api_key_env: str | None, local: bool) -> dict[str, Any]:
    if local and api_url:
        raise FlowfleetError("--local and --api-url exclude each other; give one")
    connection: dict[str, Any] = {"local": True} if local else {}
    if api_url:
        connection["api_url"] = api_url
    if api_key_env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise FlowfleetError(
                f"--api-key-env '{api_key_env}' is not a variable name; give the NAME of the "
                "variable that holds the key (e.g. PROD_PREFECT_API_KEY), never the key"
            )
        connection["api_key_env"] = api_key_env
    return connection


def _environment(connection: dict[str, Any]) -> Any:
    from flowfleet.config.models import Environment

    return Environment.model_validate(connection)


def _default_template(pool_type: str) -> dict[str, Any] | None:
    from flowfleet.render.templates import TemplateError, default_template

    try:
        return default_template(pool_type)
    except (TemplateError, FlowfleetError):
        return None


def _check_name(option: str, value: str, what: str) -> None:
    if not _NAME.fullmatch(value) or len(value) > 100:
        raise FlowfleetError(
            f"{option} '{value}' is not a valid {what} name; use letters, digits, "
            "'_', '.' and '-', starting with a letter or digit"
        )
