"""`flowfleet diff`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import DEFAULT_FILE, ConfigFile, Json, Project


def diff(
    env_a: Annotated[str, Parameter(help="First environment.")],
    env_b: Annotated[str, Parameter(help="Second environment.")],
    *,
    file: ConfigFile = DEFAULT_FILE,
    project: Project = None,
    json: Json = False,
) -> int:
    """Show how two environments' declared deployments differ (offline)."""
    from flowfleet.commands.diff import run_diff

    return run_diff(file, env_a, env_b, project, as_json=json)
