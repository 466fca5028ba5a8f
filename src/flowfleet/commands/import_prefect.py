"""import PREFECT_YAML: convert a Prefect prefect.yaml's deployments into flowfleet.yaml.

Warnings (what did not carry over, placeholders kept as written) go to stderr, each at its
file:line:column. The config goes to stdout, or with `-o FILE` into FILE, which is never
overwritten without `--force`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from flowfleet.commands.common import write_new_file
from flowfleet.errors import FlowfleetError
from flowfleet.interop.importer import convert, dump_config, read_prefect_yaml
from flowfleet.output.console import err, out

_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def run_import(source: Path, *, output: Path | None, environment: str, force: bool) -> int:
    """Exit 0 when converted (warnings or not); every problem is a FlowfleetError."""
    if not _ENVIRONMENT_NAME.fullmatch(environment):
        raise FlowfleetError(
            f"--env '{environment}' is not a valid environment name; use letters, digits, "
            "'_', '.' and '-', starting with a letter or digit"
        )
    if output is not None and output.exists() and not force:
        raise FlowfleetError(f"{output} exists; pass --force to overwrite it")
    converted = convert(read_prefect_yaml(source), environment)
    for warning in converted.warnings:
        err(str(warning))
    text = dump_config(converted.config, source.name)
    if output is None:
        sys.stdout.write(text)
        return 0
    write_new_file(output, text, force=force)
    count = len(converted.config["deployments"])
    out(f"wrote {output}: {count} deployment{'s' if count != 1 else ''} from {source}")
    return 0
