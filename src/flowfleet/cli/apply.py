"""`flowfleet apply`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import (
    Adopt,
    Environments,
    Files,
    Json,
    Preview,
    Project,
    Prune,
    files_or_default,
)


def apply(
    *,
    file: Files = None,
    env: Environments = None,
    project: Project = None,
    prune: Prune = False,
    adopt: Adopt = False,
    preview: Preview = None,
    max_deletes: Annotated[
        int, Parameter(help="Refuse a plan that deletes more deployments than this.")
    ] = 10,
    yes: Annotated[bool, Parameter(name=["--yes", "-y"], negative=(), help="Do not ask.")] = False,
    json: Json = False,
) -> int:
    """Make each environment's server match the config, changing only what differs."""
    from flowfleet.commands.apply import run_apply

    return run_apply(
        files_or_default(file),
        env or [],
        project,
        prune=prune,
        adopt=adopt,
        max_deletes=max_deletes,
        yes=yes,
        as_json=json,
        preview=preview,
    )
