"""Prefect versions as flowfleet compares them: the oldest server it supports, and the
parsing of what a server says it runs (`GET /admin/version`)."""

from __future__ import annotations

import re

Version = tuple[int, int, int]

# The oldest Prefect server flowfleet plans and applies against (docs/compatibility.md):
# older ones lack filters its reads use (e.g. `deployments.id.not_any_` on 3.1).
OLDEST_SERVER: Version = (3, 4, 0)


def parse_version(text: str | None) -> Version | None:
    """`3.4.25` (also `3.5.0.dev1`, `3.4.25+cloud`) → (3, 4, 25); None if not a version."""
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def version_text(version: Version) -> str:
    """(3, 4, 0) → `3.4.0`."""
    return ".".join(str(part) for part in version)
