"""`flowfleet run`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import DEFAULT_FILE, ConfigFile, Environment, Json


def run(
    deployment: Annotated[str, Parameter(help="FLOW/DEPLOYMENT, e.g. hello/daily.")],
    *,
    env: Environment = None,
    param: Annotated[
        list[str] | None,
        Parameter(name=["--param", "-p"], negative=(), help="KEY=VALUE (repeatable; JSON values)."),
    ] = None,
    wait: Annotated[bool, Parameter(negative=(), help="Wait for the run's final state.")] = False,
    timeout: Annotated[float, Parameter(help="Seconds to wait with --wait.")] = 600.0,
    file: ConfigFile = DEFAULT_FILE,
    json: Json = False,
) -> int:
    """Trigger a deployment; with --wait, exit 0 only if the run COMPLETED."""
    from flowfleet.commands.run import run_deployment

    return run_deployment(
        file, env, deployment, param or [], wait=wait, timeout=timeout, as_json=json
    )
