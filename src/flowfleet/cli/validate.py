"""`flowfleet validate`."""

from __future__ import annotations

from flowfleet.cli.options import Environments, Files, Json, Project, files_or_default


def validate(
    *,
    file: Files = None,
    env: Environments = None,
    project: Project = None,
    json: Json = False,
) -> int:
    """Validate config files offline: schema, flows, parameters, schedules, every environment.

    Exits 0 when valid, 1 with every problem (file:line:column) when not.
    """
    from flowfleet.commands.validate import run_validate

    return run_validate(files_or_default(file), env or [], project, as_json=json)
