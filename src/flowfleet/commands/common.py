"""What every command that reads config files does first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flowfleet.output import err
from flowfleet.validate import Desired, load_and_validate


def load_desired(
    files: Sequence[Path], environments: Sequence[str], project: str | None
) -> list[Desired]:
    """Load and validate (raising ValidationFailed with every problem); print warnings once."""
    desired = load_and_validate(files, environments, project)
    seen = set()
    for d in desired:
        for warning in d.loaded.warnings:
            if warning not in seen:
                seen.add(warning)
                err(str(warning))
    return desired
