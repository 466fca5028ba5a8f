"""What a Prefect server must have for what flowfleet sends it: the check, made with the
live state and before any write, that an environment's server is recent enough.

First versions were found by comparing the servers' own request schemas
(`prefect.server.schemas.actions`) of Prefect 3.0.11, 3.1.15, 3.2.0, 3.2.15, 3.3.7,
3.4.25, 3.6.29, 3.8.8 and 3.9.1. Everything flowfleet sends exists from Prefect 3.4 (the
oldest supported version) on, except a deployment's `concurrency_options.
grace_period_seconds`: new in 3.6.6 (`prefect.server.schemas.core.ConcurrencyOptions` of
3.4.0, 3.4.25, 3.5.0 and 3.6.0-3.6.5 lacks it; 3.6.6 to 3.9.1 have it). Older servers
refuse the 3.2 features (422) and silently drop the grace period (so a plan would never
converge); both are refused here, before any write. (`collision_strategy` is in every
3.x server from 3.1.0 on: not gated.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowfleet.model.resources import Deployment

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Feature:
    """Something a config can ask of the server, and the first Prefect version with it."""

    name: str
    since: Version
    used: Callable[[Sequence[Deployment]], bool]


FEATURES = (
    Feature(
        "deployment schedules with slugs and their own parameters (how flowfleet sends "
        "every schedule)",
        (3, 2, 0),
        lambda deployments: any(d.schedules for d in deployments),
    ),
    Feature(
        "changing a deployment's pull_steps in place",
        (3, 2, 0),
        lambda deployments: any(d.pull_steps is not None for d in deployments),
    ),
    Feature(
        "changing a deployment's parameter schema in place",
        (3, 2, 0),
        lambda deployments: any(d.parameter_openapi_schema is not None for d in deployments),
    ),
    Feature(
        "grace_period_seconds of a deployment's concurrency_limit",
        (3, 6, 6),
        lambda deployments: any(
            d.concurrency_options is not None
            and d.concurrency_options.grace_period_seconds is not None
            for d in deployments
        ),
    ),
)


def parse_version(text: str | None) -> Version | None:
    """`3.4.25` (also `3.5.0.dev1`, `3.4.25+cloud`) → (3, 4, 25); None if not a version."""
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def unsupported(
    server_version: str | None,
    environment: str,
    url: str,
    deployments: Sequence[Deployment],
    features: Sequence[Feature] | None = None,
) -> list[str]:
    """One error per feature the deployments use that the server's version lacks (none
    when the version is unknown: e.g. Prefect Cloud, which runs the newest)."""
    version = parse_version(server_version)
    if version is None:
        return []
    return [
        f"environment '{environment}' ({url}) runs Prefect {server_version}, which lacks "
        f"{f.name}: that needs Prefect {_text(f.since)} or newer; upgrade the server "
        "(nothing was written)"
        for f in (FEATURES if features is None else features)
        if version < f.since and f.used(deployments)
    ]


def _text(version: Version) -> str:
    return ".".join(str(part) for part in version)
