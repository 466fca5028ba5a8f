"""`ib-block: ecs-task/NAME` → the `ecs` work pool made from that block, for every
environment whose file names it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowfleet.interop.legacy.block_file import SavedBlock, block_files, read_block_file
from flowfleet.interop.legacy.ecs_pool import Where, ecs_pool
from flowfleet.interop.legacy.files import LegacySource


@dataclass
class Pools:
    """The pools to declare, each environment's pool, and the warnings."""

    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    of_environment: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def warn(self, where: Where, message: str) -> None:
        self.warnings.append(f"{where}: warning: {message}" if where else f"warning: {message}")


def repository_root(folder: Path) -> Path:
    """The git repository holding `folder`, else `folder`."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def blocks_in(root: Path, pools: Pools) -> dict[str, SavedBlock]:
    """Every ECSTask saved by a Python file under `root`, by the name it is saved under."""
    found: dict[str, SavedBlock] = {}
    for path in block_files(root):
        scanned = read_block_file(path, _display(path))
        for where, message in scanned.warnings:
            pools.warn(where, message)
        for block in scanned.blocks:
            found[block.name] = block
    return found


def make_pools(
    sources: Sequence[LegacySource],
    blocks: Mapping[str, Mapping[str, tuple[Any, Where]]],
    template: dict[str, Any],
    searched: str,
    pools: Pools,
) -> None:
    """Fill `pools` for the sources' `ib-block`s; `blocks` maps a block name to its fields,
    `searched` says where they were looked for (in the warning when one is missing)."""
    for source in sources:
        reference = source.ib_block
        if reference is None:
            continue
        where = source.ib_block_location()
        kind, _, name = reference.partition("/")
        if kind != "ecs-task" or not name:
            pools.warn(
                where,
                f"'ib-block: {reference}' is not an ecs-task block; only those "
                "become work pools: declare the pool under work_pools: by hand",
            )
            continue
        if name not in blocks:
            pools.warn(
                where,
                f"'ib-block: {reference}': no ECSTask saved as '{name}' in "
                f"{searched}; the block is not converted: give the folder of the "
                "Python file that saves it with --blocks, or declare its work pool under "
                "work_pools: by hand",
            )
            continue
        pool_name = pool_for(name)
        if pool_name not in pools.specs:
            made = ecs_pool(name, blocks[name], template)
            for at, message in made.warnings:
                pools.warn(at, message)
            pools.specs[pool_name] = {**made.spec, "environments": []}
        pools.specs[pool_name]["environments"].append(source.environment)
        pools.of_environment[source.environment] = pool_name
        _note_replaced(source, pool_name, pools)


def pool_for(block: str) -> str:
    """The pool's name: `ecs-` and the block's name."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", block).strip("-")
    return slug if slug.startswith("ecs") else f"ecs-{slug}"


def _note_replaced(source: LegacySource, pool_name: str, pools: Pools) -> None:
    for index, raw in enumerate(source.document.data.get("deployments") or []):
        old = (raw.get("work_pool") or {}).get("name")
        if old is not None and str(old) != pool_name:
            at = source.document.locate(("deployments", index, "work_pool", "name"))
            pools.warn(
                at,
                f"work pool '{old}' is replaced by '{pool_name}', the pool made "
                f"from {source.ib_block} (its deployments ran on that block)",
            )
            return


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def shown_folder(path: Path) -> str:
    """A folder as the user would name it: relative to the current one when inside it."""
    shown = _display(path)
    return "the current folder" if shown == "." else shown
