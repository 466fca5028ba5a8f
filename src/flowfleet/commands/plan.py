"""plan: what apply would change in each environment, field by field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from flowfleet._aio import run
from flowfleet.apply.pipeline import plan_all
from flowfleet.commands.common import load_desired
from flowfleet.output import report
from flowfleet.output.console import err, out, print_json
from flowfleet.plan import saved as planfile
from flowfleet.plan.saved import PlanRequest
from flowfleet.render.validate import CONNECT
from flowfleet.server.early import forget_all as forget_early_reads
from flowfleet.server.pacing import DEFAULT_DEADLINE, deadline_in

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
    out_file: Path | None = None,
    timeout: float = DEFAULT_DEADLINE,
) -> int:
    """0: planned (no changes with --detailed-exitcode), 2: changes, 1: errors.
    With `out_file`, also save the plan for `apply PLAN_FILE`. Reads end after `timeout`
    seconds (an error)."""
    from flowfleet.commands.common import check_timeout

    check_timeout(timeout)
    early: Literal["plan"] | None = "plan" if preview is None else None
    try:
        with deadline_in(timeout):  # the early reads too
            desired = load_desired(files, environments, project, CONNECT, read_early=early)
            plans = run(plan_all(desired, prune=prune, adopt=adopt, preview=preview))
    finally:
        forget_early_reads()
    if out_file is not None:
        request = PlanRequest(
            tuple(str(f) for f in files), tuple(environments), project, prune, adopt, preview
        )
        planfile.write(out_file, request, plans)
        err(f"Plan saved to {out_file}; apply exactly it with `flowfleet apply {out_file}`.")
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
