"""`ib-block: ecs-task/NAME` → the `ecs` work pool made from that block, for every
environment whose file names it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowfleet.interop.legacy.block_file import SavedBlock, block_files, read_block_file
from flowfleet.interop.legacy.ecs_pool import EcsPool, Where, ecs_pool
from flowfleet.interop.legacy.files import LegacySource

Fields = Mapping[str, tuple[Any, Where]]


@dataclass
class Pools:
    """The pools to declare, each environment's pool, and the warnings."""

    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    of_environment: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def warn(self, where: Where, message: str) -> None:
        """Add a warning, once (environments that share a block share its warnings)."""
        warning = f"{where}: warning: {message}" if where else f"warning: {message}"
        if warning not in self.warnings:
            self.warnings.append(warning)


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
    blocks: Mapping[str, Mapping[str, Fields]],
    template: dict[str, Any],
    searched: str,
    pools: Pools,
) -> None:
    """Fill `pools` for the sources' `ib-block`s; `blocks` maps an environment to the
    blocks it can use (name → fields), `searched` says where they were looked for (in the
    warning when one is missing). A block name that stands for different blocks in
    different environments (read from each one's server) gives one pool per environment."""
    made: list[tuple[LegacySource, str, EcsPool]] = []
    for source in sources:
        name = _block_name(source, blocks.get(source.environment, {}), searched, pools)
        if name is not None:
            fields = blocks[source.environment][name]
            made.append((source, name, ecs_pool(name, fields, template)))
    differ = _differing(made, pools)
    for source, name, pool in made:
        pool_name = pool_for(f"{name}-{source.environment}" if name in differ else name)
        for at, message in pool.warnings:
            pools.warn(at, message)
        spec = pools.specs.setdefault(pool_name, {**pool.spec, "environments": []})
        spec["environments"].append(source.environment)
        pools.of_environment[source.environment] = pool_name
        _note_replaced(source, pool_name, pools)


def _block_name(
    source: LegacySource, blocks: Mapping[str, Fields], searched: str, pools: Pools
) -> str | None:
    """The name of the ecs-task block the source's `ib-block` names, when it is known."""
    reference = source.ib_block
    if reference is None:
        return None
    where = source.ib_block_location()
    kind, _, name = reference.partition("/")
    if kind != "ecs-task" or not name:
        pools.warn(
            where,
            f"'ib-block: {reference}' is not an ecs-task block; only those "
            "become work pools: declare the pool under work_pools: by hand",
        )
        return None
    if name not in blocks:
        pools.warn(
            where,
            f"'ib-block: {reference}': no ECSTask saved as '{name}' in "
            f"{searched}; the block is not converted: give the folder of the "
            "Python file that saves it with --blocks, or declare its work pool under "
            "work_pools: by hand",
        )
        return None
    return name


def _differing(made: list[tuple[LegacySource, str, EcsPool]], pools: Pools) -> set[str]:
    """The block names whose pools differ between environments (each is then named after
    its environment too: `ecs-<block>-<env>`)."""
    specs: dict[str, list[tuple[LegacySource, dict[str, Any]]]] = {}
    for source, name, pool in made:
        specs.setdefault(name, []).append((source, pool.spec))
    differ = {n for n, found in specs.items() if any(s != found[0][1] for _, s in found)}
    for name in sorted(differ):
        first = specs[name][0][0]
        names = ", ".join(pool_for(f"{name}-{s.environment}") for s, _ in specs[name])
        pools.warn(
            first.ib_block_location(),
            f"'ib-block: ecs-task/{name}' does not name the same block in the environments "
            f"{', '.join(s.environment for s, _ in specs[name])} (their servers hold "
            f"different ones); each environment gets its own work pool: {names}",
        )
    return differ


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
