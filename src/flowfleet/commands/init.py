"""init [DIR]: scaffold flowfleet.yaml, a Dockerfile, CI workflows and an ECS base job
template into an existing repository.

A file that exists is never overwritten without `--force`: it is reported and skipped.
Exit 0 when at least one file was written, 1 when every file existed already (nothing
was done, which a script should notice).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flowfleet._version import __version__
from flowfleet.errors import FlowfleetError
from flowfleet.interop.scaffold import (
    Discovery,
    ScaffoldFile,
    discover_flows,
    ecs_base_job_template,
    scaffold_files,
)
from flowfleet.interop.scaffold.files import CONFIG, ECS_TEMPLATE, PLACEHOLDER_NOTE
from flowfleet.output.console import err, out, print_json


def run_init(directory: Path, *, force: bool, as_json: bool = False) -> int:
    """Write the scaffold into `directory`; see the module docstring for the exit codes."""
    root = _repository(directory)
    discovery = discover_flows(root)
    ecs_template, ecs_source = ecs_base_job_template()
    files = scaffold_files(project_name(root), discovery.flows, requirement(), ecs_template)
    written = [f for f in files if _write(root, f, force=force)]
    if as_json:
        print_json(_summary(files, written, discovery))
        return 0 if written else 1
    _report(directory, files, written, discovery, ecs_source)
    if not written:
        err("nothing was written: every file exists already (--force overwrites them)")
        return 1
    return 0


def requirement() -> str:
    """How the generated workflows install flowfleet: the version that wrote them."""
    return f"flowfleet=={__version__}"


def project_name(root: Path) -> str:
    """The repository folder's name as a project name (letters, digits, '_', '.', '-')."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", root.name).strip("-._")
    return slug or "flows"


def _repository(directory: Path) -> Path:
    if not directory.exists():
        raise FlowfleetError(f"{directory}: no such folder; init scaffolds an existing repository")
    if not directory.is_dir():
        raise FlowfleetError(f"{directory}: not a folder; give the repository's folder")
    return directory.resolve()


def _write(root: Path, file: ScaffoldFile, *, force: bool) -> bool:
    """Write `file`; False when it exists and `force` is not given."""
    path = root / file.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowfleetError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    try:
        with path.open("w" if force else "x", encoding="utf-8", newline="\n") as stream:
            stream.write(file.content)
    except FileExistsError:
        return False
    except OSError as exc:
        raise FlowfleetError(f"cannot write {path}: {exc.strerror or exc}") from None
    return True


def _summary(
    files: list[ScaffoldFile], written: list[ScaffoldFile], discovery: Discovery
) -> dict[str, Any]:
    return {
        "written": [f.path for f in written],
        "skipped": [f.path for f in files if f not in written],
        "deployments": [f.entrypoint for f in discovery.flows],
        "not_declared": [{"where": u.where, "reason": u.reason} for u in discovery.unusable],
    }


def _report(
    directory: Path,
    files: list[ScaffoldFile],
    written: list[ScaffoldFile],
    discovery: Discovery,
    ecs_source: str,
) -> None:
    for file in files:
        shown = (directory / file.path).as_posix()
        if file in written:
            out(f"wrote    {shown}{_detail(file, discovery, ecs_source)}")
        else:
            hint = f"; {file.if_exists}" if file.if_exists else ""
            err(f"warning: {shown} exists, left as it is (--force overwrites it){hint}")
    for unusable in discovery.unusable:
        err(f"warning: {unusable.where}: not declared: {unusable.reason}")
    if any(f.path == CONFIG for f in written):
        _next_steps(discovery)


def _detail(file: ScaffoldFile, discovery: Discovery, ecs_source: str) -> str:
    if file.path == ECS_TEMPLATE:
        return f" ({ecs_source})"
    if file.path != CONFIG:
        return ""
    count = len(discovery.flows)
    return f" ({count} deployment{'s' if count != 1 else ''}, one per flow found)"


def _next_steps(discovery: Discovery) -> None:
    out("")
    out("Next: validate it (offline: it needs no variables set):")
    out("  flowfleet validate")
    out("render, plan and apply need IMAGE; plan and apply also the environment's server:")
    out("  export IMAGE=... DEV_PREFECT_API_URL=... DEV_PREFECT_API_KEY=...")
    needing = [f.entrypoint for f in discovery.flows if f.flow.parameter_schema.get("required")]
    if needing:
        out(f"Replace the placeholder values marked '# {PLACEHOLDER_NOTE}' of:")
        out("  " + ", ".join(needing))
    out("The workflows need the repository secrets DEV_PREFECT_API_URL, DEV_PREFECT_API_KEY,")
    out("PROD_PREFECT_API_URL, PROD_PREFECT_API_KEY, AWS_ROLE_ARN and the variables")
    out("IMAGE_REPOSITORY and AWS_REGION.")
