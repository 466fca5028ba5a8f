"""validate: load, render and check every selected environment offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flowfleet.commands.common import load_desired
from flowfleet.errors import ValidationFailed, merge_problems
from flowfleet.output.console import err, out, print_json, print_problems, problems_json
from flowfleet.render.validate import OFFLINE, Desired


def run_validate(
    files: Sequence[Path],
    environments: Sequence[str],
    project: str | None,
    *,
    as_json: bool,
    verbose: bool = False,
) -> int:
    """Exit 0 if every file and environment is valid, else 1 with every problem. Offline:
    unset variables that shape the deployments are warnings, connection ones are not
    looked at. With `verbose`, also what flowfleet read differently from Prefect (notes)."""
    try:
        desired = load_desired(files, environments, project, OFFLINE)
    except ValidationFailed as exc:
        if as_json:
            print_json(
                {
                    "valid": False,
                    "problems": problems_json(exc.problems),
                    "warnings": problems_json(exc.warnings),
                }
            )
        else:
            print_problems(exc.problems, exc.warnings)
        return 1
    notes = merge_problems(n for d in desired for n in d.notes) if verbose else []
    if as_json:
        warnings = merge_problems(w for d in desired for w in d.warnings)
        print_json(
            {
                "valid": True,
                "environments": [_summary(d) for d in desired],
                "warnings": problems_json(warnings),
                **({"notes": problems_json(notes)} if verbose else {}),
            }
        )
        return 0
    for note in notes:
        err(f"note: {note}")
    for d in desired:
        count = len(d.deployments)
        out(f"ok  {d.loaded.file}  {d.environment}: {count} deployment{'s' if count != 1 else ''}")
    return 0


def _summary(desired: Desired) -> dict[str, object]:
    return {
        "file": desired.loaded.file,
        "project": desired.project,
        "environment": desired.environment,
        "deployments": [r.deployment.full_name for r in desired.deployments],
    }
