"""plan: what apply would change in each environment, field by field."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from flowfleet import report
from flowfleet.commands.common import load_desired
from flowfleet.deploy import plan_all
from flowfleet.output import out, print_json

Format = Literal["text", "markdown", "json"]


def run_plan(
    files: Sequence[Path],
    environments: Sequence[str],
    project: str | None,
    *,
    prune: bool,
    adopt: bool,
    detailed_exitcode: bool,
    output_format: Format,
    preview: str | None = None,
) -> int:
    """0: planned (no changes with --detailed-exitcode), 2: changes, 1: errors."""
    desired = load_desired(files, environments, project)
    plans = asyncio.run(plan_all(desired, prune=prune, adopt=adopt, preview=preview))
    if output_format == "json":
        print_json(report.plan_json(plans))
    elif output_format == "markdown":
        out(report.plan_markdown(plans).rstrip())
    else:
        out("\n\n".join(report.plan_text(p) for p in plans))
    if any(p.errors for p in plans):
        return 1
    if detailed_exitcode and any(p.has_changes for p in plans):
        return 2
    return 0
