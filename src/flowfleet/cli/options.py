"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

Files = Annotated[
    list[Path] | None,
    Parameter(
        name=["--file", "-f"],
        negative=(),
        help="Config file (repeatable; default: flowfleet.yaml).",
    ),
]
Environments = Annotated[
    list[str] | None,
    Parameter(name=["--env", "-e"], negative=(), help="Environment (repeatable; default: all)."),
]
Environment = Annotated[str | None, Parameter(name=["--env", "-e"], help="Environment.")]
Project = Annotated[
    str | None,
    Parameter(help="Project name (default: the 'project' key, else the config's folder name)."),
]
Json = Annotated[bool, Parameter(name="--json", negative=(), help="Print JSON.")]

DEFAULT_FILE = Path("flowfleet.yaml")


def files_or_default(files: list[Path] | None) -> list[Path]:
    return files or [DEFAULT_FILE]


Prune = Annotated[
    bool,
    Parameter(negative=(), help="Also delete managed deployments that are no longer declared."),
]
Adopt = Annotated[
    bool,
    Parameter(negative=(), help="Take over existing deployments that lack flowfleet's marker."),
]
ConfigFile = Annotated[Path, Parameter(name=["--file", "-f"], help="Config file.")]
Preview = Annotated[
    str | None,
    Parameter(
        help="A preview of the environment for a pull request (letters, digits, '-', '_'; "
        "at most 40): its deployments are named <name>--NAME, schedules paused."
    ),
]
Timeout = Annotated[
    float,
    Parameter(
        help="Seconds the whole command may take: after them nothing more is sent, apply "
        "reports what was done, failed and not attempted, and exits 1 (releasing the lock "
        "may take a few seconds more)."
    ),
]
DEFAULT_TIMEOUT = 1800.0  # flowfleet.server.pacing.DEFAULT_DEADLINE, without importing it
LockTimeout = Annotated[
    float,
    Parameter(
        help="Seconds to wait while another apply or destroy holds an environment's lock "
        "(0: refuse at once)."
    ),
]
DEFAULT_LOCK_TIMEOUT = 300.0  # flowfleet.server.lock.DEFAULT_TIMEOUT, without importing it
