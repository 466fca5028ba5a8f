"""import dev.yaml prod.yaml: per-environment files in the older format → one flowfleet.yaml.

Each file is one environment (named after the file, or `NAME=FILE`). The config goes to
stdout, or with `-o FILE` into FILE (never overwritten without `--force`); warnings go to
stderr, each at its file:line:column (a block read with `--from-server`: at its
environment and server).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from flowfleet.commands.common import write_new_file
from flowfleet.commands.from_server import server_targets
from flowfleet.commands.import_prefect import run_import
from flowfleet.errors import FlowfleetError
from flowfleet.interop.importer import read_prefect_yaml
from flowfleet.interop.legacy.convert import convert_legacy, dump_legacy
from flowfleet.interop.legacy.files import LegacySource, environment_files, read_legacy
from flowfleet.interop.legacy.pools import (
    Pools,
    blocks_in,
    make_pools,
    repository_root,
    shown_folder,
)
from flowfleet.interop.legacy.server_blocks import read_server_blocks, wanted_blocks
from flowfleet.interop.scaffold.ecs import ecs_base_job_template
from flowfleet.output.console import err, out

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def run_import_legacy(
    arguments: Sequence[str],
    *,
    output: Path | None,
    project: str | None,
    force: bool,
    blocks: Path | None = None,
    from_server: Sequence[str] = (),
    api_key_env: Sequence[str] = (),
) -> int:
    """Exit 0 when converted (warnings or not); every problem is a FlowfleetError. With
    `from_server`, the ECSTask blocks are read from the environments' servers."""
    if output is not None and output.exists() and not force:
        raise FlowfleetError(f"{output} exists; pass --force to overwrite it")
    if blocks is not None and from_server:
        raise FlowfleetError(
            "--blocks and --from-server exclude each other: the blocks are read from the "
            "Python files under --blocks, or from the servers; give one"
        )
    sources = [read_legacy(env, path) for env, path in environment_files(arguments)]
    folders = {s.loaded.root for s in sources}
    if len(folders) > 1:
        raise FlowfleetError(
            "the files are in different folders ("
            + ", ".join(sorted(map(str, folders)))
            + "); their entrypoints are relative to their own folder, so put them in one "
            "folder first"
        )
    name = _project_name(project, sources)
    folder = folders.pop()
    if from_server or api_key_env:
        pools = _server_pools(sources, from_server, api_key_env, folder)
    else:
        pools = _pools(sources, blocks, folder)
    converted = convert_legacy(sources, name, pools)
    for warning in converted.warnings:
        err(warning)
    text = dump_legacy(converted.config, sources)
    if output is None:
        sys.stdout.write(text)
        return 0
    write_new_file(output, text, force=force)
    count = sum(len(s.loaded.config.deployments) for s in sources)
    out(f"wrote {output}: {count} deployment(s) of {len(sources)} environment(s)")
    return 0


def _project_name(project: str | None, sources: Sequence[LegacySource]) -> str:
    name = project or sources[0].loaded.config.project
    assert name is not None  # the loader always sets it
    if not _NAME.fullmatch(name) or len(name) > 100:
        raise FlowfleetError(
            f"--project '{name}' is not a valid project name; use letters, digits, "
            "'_', '.' and '-', starting with a letter or digit"
        )
    return name


def _pools(sources: Sequence[LegacySource], blocks: Path | None, folder: Path) -> Pools:
    """The work pools made from the ECSTask blocks that the files' `ib-block`s name, found
    in the Python files under `blocks` (default: the repository holding the files)."""
    pools = Pools()
    if not any(s.ib_block for s in sources):
        return pools
    root = blocks if blocks is not None else repository_root(folder)
    if not root.is_dir():
        raise FlowfleetError(f"--blocks {root}: not a folder; give the folder of the block files")
    found = blocks_in(root, pools)
    fields = {name: block.fields for name, block in found.items()}
    for name, block in found.items():
        if any(s.ib_block == f"ecs-task/{name}" for s in sources):
            for where, message in block.warnings:
                pools.warn(where, message)
    template, _ = ecs_base_job_template()
    searched = f"the Python files under {shown_folder(root)}"
    make_pools(sources, {s.environment: fields for s in sources}, template, searched, pools)
    return pools


def _server_pools(
    sources: Sequence[LegacySource],
    from_server: Sequence[str],
    api_key_env: Sequence[str],
    folder: Path,
) -> Pools:
    """The work pools made from the ECSTask blocks on the environments' servers."""
    environments = [s.environment for s in sources]
    needed = list(wanted_blocks(sources))
    targets = server_targets(from_server, api_key_env, environments, needed, folder)
    pools = Pools()
    found = asyncio.run(read_server_blocks(sources, targets))
    template, _ = ecs_base_job_template()
    make_pools(sources, found, template, "the servers", pools)
    return pools


def run_import_files(
    files: Sequence[str],
    prefect_yaml: Path | None,
    *,
    output: Path | None,
    environment: str,
    project: str | None,
    force: bool,
    blocks: Path | None = None,
    from_server: Sequence[str] = (),
    api_key_env: Sequence[str] = (),
) -> int:
    """One prefect.yaml, or per-environment files (several, `NAME=FILE`, or one with a
    top-level `ib-block:`)."""
    if prefect_yaml is not None or (len(files) == 1 and not _is_legacy(files[0])):
        if len(files) + (prefect_yaml is not None) != 1:
            raise FlowfleetError("give one prefect.yaml (FILE or --prefect-yaml FILE)")
        if from_server or api_key_env or blocks is not None:
            raise FlowfleetError(
                "--blocks, --from-server and --api-key-env are for the per-environment files "
                "(with ib-block:); a prefect.yaml names no infrastructure block"
            )
        source = prefect_yaml or Path(files[0])
        return run_import(source, output=output, environment=environment, force=force)
    if not files:
        raise FlowfleetError(
            "give a prefect.yaml, or the per-environment files (e.g. dev.yaml prod.yaml)"
        )
    return run_import_legacy(
        files,
        output=output,
        project=project,
        force=force,
        blocks=blocks,
        from_server=from_server,
        api_key_env=api_key_env,
    )


def _is_legacy(argument: str) -> bool:
    if "=" in argument and not Path(argument).exists():
        return True
    try:
        data = read_prefect_yaml(Path(argument)).data
    except FlowfleetError:
        return False  # the prefect.yaml import reports it
    return isinstance(data, dict) and "ib-block" in data
