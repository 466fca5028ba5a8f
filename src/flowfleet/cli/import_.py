"""`flowfleet import` (the module is `import_`: `import` is a Python keyword)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter


def import_(
    *files: Annotated[
        str,
        Parameter(
            help="A prefect.yaml, or the per-environment files of the older format "
            "(dev.yaml prod.yaml; NAME=FILE names the environment)."
        ),
    ],
    prefect_yaml: Annotated[
        Path | None, Parameter(name="--prefect-yaml", help="The prefect.yaml.")
    ] = None,
    output: Annotated[
        Path | None,
        Parameter(name=["--output", "-o"], help="Write here instead of stdout."),
    ] = None,
    env: Annotated[
        str,
        Parameter(
            name=["--env", "-e"],
            help="Name of the one environment written (prefect.yaml only).",
        ),
    ] = "default",
    project: Annotated[
        str | None,
        Parameter(help="The project name (per-environment files; default: their folder's)."),
    ] = None,
    blocks: Annotated[
        Path | None,
        Parameter(
            help="Where the Python files that save the ECSTask blocks named by ib-block are "
            "(default: the repository holding the files)."
        ),
    ] = None,
    from_server: Annotated[
        list[str] | None,
        Parameter(
            name="--from-server",
            negative=(),
            help="Read the ECSTask blocks from a server instead of the block files: "
            "ENV=URL for one environment's server (repeatable), URL for every environment's "
            "(e.g. --from-server dev=http://prefect-dev:4200/api --from-server "
            "prod=http://prefect-prod:4200/api).",
        ),
    ] = None,
    api_key_env: Annotated[
        list[str] | None,
        Parameter(
            name="--api-key-env",
            negative=(),
            help="With --from-server: the NAME of the variable holding the API key, as "
            "ENV=NAME for one environment (repeatable) or NAME for every one.",
        ),
    ] = None,
    force: Annotated[bool, Parameter(negative=(), help="Overwrite the output file.")] = False,
) -> int:
    """Convert a Prefect prefect.yaml, or per-environment files, into flowfleet.yaml.

    A prefect.yaml: anchors and aliases are resolved, {{ $VAR }} becomes ${VAR}; what has
    no flowfleet equivalent (build and push steps, other placeholders) is
    reported on stderr with its file:line:column. Entrypoints are kept as written: put the
    result where prefect deploy runs (usually next to prefect.yaml).

    Per-environment files (top-level ib-block and deployments): one environment each;
    what they share goes into defaults and each environment's overrides, so that render
    of each environment equals render of its old file. Write the result next to them.
    The ECSTask block an ib-block names becomes an ecs work pool, read from the Python
    file that saves it (without running it), or with --from-server from the environment's
    server (Prefect 2, or Prefect 3 / Cloud): the ecs-task block document of that name;
    the deployments use that pool.
    """
    from flowfleet.commands.import_legacy import run_import_files

    return run_import_files(
        files,
        prefect_yaml,
        output=output,
        environment=env,
        project=project,
        force=force,
        blocks=blocks,
        from_server=from_server or (),
        api_key_env=api_key_env or (),
    )
