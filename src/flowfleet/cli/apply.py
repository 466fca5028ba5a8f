"""`flowfleet apply`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TIMEOUT,
    Adopt,
    Environments,
    Files,
    Json,
    LockTimeout,
    Preview,
    Project,
    Prune,
    Timeout,
    files_or_default,
)


def apply(
    plan_file: Annotated[
        Path | None,
        Parameter(
            name="PLAN_FILE",
            help="A plan saved by `plan --out`: apply exactly it, or refuse if the config "
            "or the server changed since.",
        ),
    ] = None,
    /,
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
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> int:
    """Make each environment's server match the config, changing only what differs."""
    from flowfleet.commands.apply import run_apply, run_saved_apply

    if plan_file is not None:
        given = {"--file": file, "--env": env, "--project": project, "--prune": prune}
        given |= {"--adopt": adopt, "--preview": preview}
        return run_saved_apply(
            plan_file,
            given=[name for name, value in given.items() if value],
            max_deletes=max_deletes,
            as_json=json,
            lock_timeout=lock_timeout,
            timeout=timeout,
        )
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
        lock_timeout=lock_timeout,
        timeout=timeout,
    )
