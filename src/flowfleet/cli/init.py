"""`flowfleet init`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from flowfleet.cli.options import Json


def init(
    directory: Annotated[
        Path, Parameter(name="--dir", help="The repository's folder (default: the current one).")
    ] = Path("."),
    *,
    force: Annotated[bool, Parameter(negative=(), help="Overwrite files that exist.")] = False,
    json: Json = False,
) -> int:
    """Scaffold flowfleet.yaml (dev and prod, one deployment per flow found), a Dockerfile,
    GitHub Actions workflows and an ECS base job template into an existing repository.

    A file that exists is reported and left alone unless --force. Exits 0 when at least
    one file was written, 1 when every file existed already.
    """
    from flowfleet.commands.init import run_init

    return run_init(directory, force=force, as_json=json)
