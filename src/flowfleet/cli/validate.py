"""`flowfleet validate`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import Environments, Files, Json, Project, files_or_default


def validate(
    *,
    file: Files = None,
    env: Environments = None,
    project: Project = None,
    json: Json = False,
    verbose: Annotated[
        bool,
        Parameter(
            name=["--verbose", "-v"],
            negative=(),
            help="Also say where a parameter schema may differ from Prefect's (types of"
            " libraries flowfleet does not import).",
        ),
    ] = False,
) -> int:
    """Validate config files offline: schema, flows, parameters, schedules, every environment.

    Exits 0 when valid, 1 with every problem (file:line:column) when not.
    """
    from flowfleet.commands.validate import run_validate

    return run_validate(files_or_default(file), env or [], project, as_json=json, verbose=verbose)
