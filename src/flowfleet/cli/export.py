"""`flowfleet export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter


def export(
    *,
    env: Annotated[
        str, Parameter(name=["--env", "-e"], help="The environment's name in the exported file.")
    ],
    flow: Annotated[
        list[str] | None,
        Parameter(negative=(), help="Only this flow's deployments (repeatable; default: all)."),
    ] = None,
    api_url: Annotated[
        str | None,
        Parameter(help="The server's API URL (default: the Prefect settings in force)."),
    ] = None,
    api_key_env: Annotated[
        str | None, Parameter(help="The NAME of the variable holding the API key.")
    ] = None,
    local: Annotated[
        bool, Parameter(negative=(), help="Export the embedded server of a local environment.")
    ] = False,
    project: Annotated[
        str | None,
        Parameter(help="The exported project name (default: the output file's folder name)."),
    ] = None,
    out: Annotated[
        Path | None, Parameter(name=["--out", "-o"], help="Write to FILE (default: stdout).")
    ] = None,
    force: Annotated[bool, Parameter(negative=(), help="Overwrite --out FILE.")] = False,
) -> int:
    """Print the deployments and work pools on an environment's server as flowfleet.yaml."""
    from flowfleet.commands.export import run_export

    return run_export(
        env,
        flows=flow or [],
        project=project,
        api_url=api_url,
        api_key_env=api_key_env,
        local=local,
        output=out,
        force=force,
    )
