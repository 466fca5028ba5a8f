"""What a Prefect server must have for what flowfleet sends it: the check, made with the
live state and before any write, that an environment's server is recent enough.

Servers older than the oldest supported one (flowfleet.model.versions.OLDEST_SERVER) are
refused as a whole when the live state is read. First versions were found by comparing
the servers' own request schemas (`prefect.server.schemas.actions`, `.core`) of Prefect
3.0.11 to 3.9.1: everything flowfleet sends exists from Prefect 3.4 on, except a
deployment's `concurrency_options.grace_period_seconds`, new in 3.6.6 (3.4.0, 3.4.25,
3.5.0 and 3.6.0-3.6.5 lack it). Older servers drop it silently (so a plan would never
converge): it is refused here, before any write. (`collision_strategy` is in every 3.x
server from 3.1.0 on: not gated. Nor is a schedule rename, `replaces` in the config:
flowfleet does not send Prefect's `replaces` (3.6), it PATCHes the schedule with its new
slug, which keeps the schedule's id on 3.4 as on 3.9.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowfleet.model.resources import Deployment
from flowfleet.model.versions import Version, parse_version, version_text


@dataclass(frozen=True)
class Feature:
    """Something a config can ask of the server, and the first Prefect version with it."""

    name: str
    since: Version
    used: Callable[[Sequence[Deployment]], bool]


FEATURES = (
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
        f"{f.name}: that needs Prefect {version_text(f.since)} or newer; upgrade the server "
        "(nothing was written)"
        for f in (FEATURES if features is None else features)
        if version < f.since and f.used(deployments)
    ]
