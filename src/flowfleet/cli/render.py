"""`flowfleet render`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import DEFAULT_FILE, Environment, Json, Project


def render(
    *,
    file: Annotated[Path, Parameter(name=["--file", "-f"], help="Config file.")] = DEFAULT_FILE,
    env: Environment = None,
    project: Project = None,
    jobs: Annotated[
        bool,
        Parameter(
            name="--jobs",
            negative=(),
            help="Print each deployment's job configuration as its worker will build it "
            "(for ECS: the task definition and RunTask request), offline.",
        ),
    ] = False,
    json: Json = False,
) -> int:
    """Print the fully resolved deployments (with their triggers) and standalone automations
    of one environment, as YAML or --json."""
    from flowfleet.commands.render import run_render

    return run_render(file, env, project, as_json=json, jobs=jobs)
