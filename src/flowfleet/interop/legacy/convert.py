"""Per-environment files → one flowfleet.yaml's data and text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from flowfleet.interop.importer.dump import yaml_block
from flowfleet.interop.legacy.files import LegacySource, old_deployments
from flowfleet.interop.legacy.merge import OldDeployment, merge_environments
from flowfleet.interop.legacy.pools import Pools

_HEADER = (
    "# yaml-language-server: $schema=flowfleet.schema.json\n"
    "# Converted from {sources} by `flowfleet import`; for each environment, `flowfleet\n"
    "# render --env ENV` gives what `flowfleet render -f FILE` gave for its old file.\n"
)
_NO_URL = (
    "# Like the old files, no environment has an api_url: each uses the Prefect settings in\n"
    "# force (PREFECT_API_URL or the active profile). Give each its own server:\n"
    "#   api_url: ${{{upper}_PREFECT_API_URL}}, api_key_env: {upper}_PREFECT_API_KEY\n"
)


@dataclass(frozen=True)
class LegacyConverted:
    """The config as plain data, and the warnings (each `file:line:column: warning: ...`)."""

    config: dict[str, Any]
    warnings: tuple[str, ...]


def convert_legacy(
    sources: Sequence[LegacySource], project: str, pools: Pools | None = None
) -> LegacyConverted:
    """The files' deployments as one config; `sources` in the order they were given. With
    `pools` (made from the files' `ib-block`s), each environment's deployments use its pool."""
    pools = pools or Pools()
    environments = {
        s.environment: [
            _on_pool(d, pools.of_environment.get(s.environment)) for d in old_deployments(s)
        ]
        for s in sources
    }
    merged = merge_environments(environments)
    config: dict[str, Any] = {"project": project}
    config.update((k, v) for k, v in merged.items() if k != "deployments")
    if pools.specs:
        config["work_pools"] = pools.specs
    config["deployments"] = merged["deployments"]
    loader = [str(w) for s in sources for w in s.loaded.warnings if "'ib-block'" not in w.message]
    return LegacyConverted(config, (*loader, *pools.warnings))


def _on_pool(old: OldDeployment, pool: str | None) -> OldDeployment:
    if pool is None:
        return old
    return replace(old, values={**old.values, "work_pool.name": pool})


def dump_legacy(config: dict[str, Any], sources: Sequence[LegacySource]) -> str:
    """flowfleet.yaml text: a header, then one block per top-level key."""
    names = ", ".join(s.loaded.file for s in sources)
    sections = [_HEADER.format(sources=names)]
    for key, value in config.items():
        text = yaml_block(key, value)
        if key == "environments":
            upper = next(iter(value)).upper().replace("-", "_").replace(".", "_")
            text = _NO_URL.format(upper=upper) + text
        sections.append(text)
    return "\n".join(sections)
