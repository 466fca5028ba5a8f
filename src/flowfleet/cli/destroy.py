"""`flowfleet destroy`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_TIMEOUT,
    Files,
    Json,
    LockTimeout,
    Project,
    Timeout,
    files_or_default,
)


def destroy(
    *,
    env: Annotated[str, Parameter(name=["--env", "-e"], help="Environment of the preview.")],
    preview: Annotated[str, Parameter(help="The preview to delete (as given to apply).")],
    file: Files = None,
    project: Project = None,
    yes: Annotated[bool, Parameter(name=["--yes", "-y"], negative=(), help="Do not ask.")] = False,
    json: Json = False,
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> int:
    """Delete every deployment of a preview (apply --preview NAME), and nothing else."""
    from flowfleet.commands.destroy import run_destroy

    return run_destroy(
        files_or_default(file),
        env,
        project,
        preview=preview,
        yes=yes,
        as_json=json,
        lock_timeout=lock_timeout,
        timeout=timeout,
    )
