"""`flowfleet plan`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cyclopts import Parameter

from flowfleet.cli.options import (
    DEFAULT_TIMEOUT,
    Adopt,
    Environments,
    Files,
    Json,
    Preview,
    Project,
    Prune,
    Timeout,
    files_or_default,
)


def plan(
    *,
    file: Files = None,
    env: Environments = None,
    project: Project = None,
    prune: Prune = False,
    adopt: Adopt = False,
    preview: Preview = None,
    detailed_exitcode: Annotated[
        bool, Parameter(negative=(), help="Exit 0 without changes, 2 with changes, 1 on error.")
    ] = False,
    json: Json = False,
    format: Annotated[
        Literal["text", "markdown"], Parameter(help="Output format (markdown for PR comments).")
    ] = "text",
    out: Annotated[
        Path | None,
        Parameter(help="Also save the plan to this JSON file, for `apply PLAN_FILE`."),
    ] = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> int:
    """Show what apply would change on each environment's server, field by field."""
    from flowfleet.commands.plan import run_plan

    return run_plan(
        files_or_default(file),
        env or [],
        project,
        prune=prune,
        adopt=adopt,
        detailed_exitcode=detailed_exitcode,
        output_format="json" if json else format,
        preview=preview,
        out_file=out,
        timeout=timeout,
    )
