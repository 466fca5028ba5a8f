"""Per-environment files → one flowfleet.yaml's data and text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowfleet.interop.importer import Converted
from flowfleet.interop.importer.dump import yaml_block
from flowfleet.interop.legacy.files import LegacySource, old_deployments
from flowfleet.interop.legacy.merge import merge_environments

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


def convert_legacy(sources: Sequence[LegacySource], project: str) -> Converted:
    """The files' deployments as one config; `sources` in the order they were given."""
    merged = merge_environments({s.environment: old_deployments(s) for s in sources})
    config: dict[str, Any] = {"project": project, **merged}
    warnings = tuple(w for s in sources for w in s.loaded.warnings)
    return Converted(config, warnings)


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
