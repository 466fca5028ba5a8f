"""`flowfleet import` (the module is `import_`: `import` is a Python keyword)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter


def import_(
    prefect_file: Annotated[Path, Parameter(name="--prefect-yaml", help="The prefect.yaml.")],
    *,
    output: Annotated[
        Path | None,
        Parameter(name=["--output", "-o"], help="Write here instead of stdout."),
    ] = None,
    env: Annotated[
        str, Parameter(name=["--env", "-e"], help="Name of the one environment written.")
    ] = "default",
    force: Annotated[bool, Parameter(negative=(), help="Overwrite the output file.")] = False,
) -> int:
    """Convert a Prefect prefect.yaml's deployments into flowfleet.yaml.

    Anchors and aliases are resolved, {{ $VAR }} becomes ${VAR}; what has no flowfleet
    equivalent (build and push steps, triggers, other placeholders) is reported on stderr
    with its file:line:column. Entrypoints are kept as written: put the result where
    prefect deploy runs (usually next to prefect.yaml).
    """
    from flowfleet.commands.import_prefect import run_import

    return run_import(prefect_file, output=output, environment=env, force=force)
