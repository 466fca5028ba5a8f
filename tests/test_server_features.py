"""The version gate as pure logic: which features a server of a given version lacks.
(Against real servers: tests/integration/test_server_versions.py.)"""

from __future__ import annotations

import pytest

from flowfleet.model.resources import ConcurrencyOptions, Deployment, Schedule
from flowfleet.model.versions import OLDEST_SERVER
from flowfleet.plan.features import FEATURES, Feature, parse_version, unsupported

SCHEDULED = Deployment(
    flow_name="f",
    name="d",
    entrypoint="flows/f.py:f",
    schedules=(Schedule(slug="schedule-1", cron="0 * * * *"),),
)
PLAIN = Deployment(flow_name="f", name="plain", entrypoint="flows/f.py:f")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.4.25", (3, 4, 25)),
        ("3.9.1", (3, 9, 1)),
        ("3.5.0.dev1", (3, 5, 0)),
        ("3.4.25+cloud", (3, 4, 25)),
        ("3.10", (3, 10, 0)),
        ("unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_version(text: str | None, expected: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == expected


EVERYTHING = SCHEDULED.model_copy(
    update={
        "pull_steps": ({"step": {}},),
        "parameter_openapi_schema": {"type": "object"},
        "concurrency_limit": 2,
        "concurrency_options": ConcurrencyOptions(
            collision_strategy="CANCEL_NEW", grace_period_seconds=300
        ),
    }
)


@pytest.mark.parametrize("version", ["3.6.6", "3.6.29", "3.8.8", "3.9.1", "4.0.0"])
def test_recent_servers_have_every_feature(version: str) -> None:
    assert all(f.used([EVERYTHING]) for f in FEATURES)
    assert unsupported(version, "dev", "u", [EVERYTHING]) == []


@pytest.mark.parametrize("version", ["3.4.0", "3.4.25", "3.5.0", "3.6.5"])
def test_a_grace_period_needs_prefect_3_6_6(version: str) -> None:
    """The only feature newer than the oldest supported server (3.4): older ones drop a
    deployment's `concurrency_options.grace_period_seconds` silently."""
    assert unsupported(version, "dev", "https://u/api", [EVERYTHING]) == [
        f"environment 'dev' (https://u/api) runs Prefect {version}, which lacks "
        "grace_period_seconds of a deployment's concurrency_limit: that needs Prefect 3.6.6 "
        "or newer; upgrade the server (nothing was written)"
    ]
    strategy_only = EVERYTHING.model_copy(
        update={"concurrency_options": ConcurrencyOptions(collision_strategy="CANCEL_NEW")}
    )
    assert unsupported(version, "dev", "u", [strategy_only]) == []


def test_every_feature_is_newer_than_the_oldest_supported_server() -> None:
    """Older servers are refused as a whole (flowfleet.server.read.refuse_too_old): a
    feature they alone lack would never be checked."""
    assert [f.name for f in FEATURES if f.since <= OLDEST_SERVER] == []


def test_unused_features_and_unknown_versions_are_not_gated() -> None:
    assert unsupported("3.1.0", "dev", "u", [PLAIN]) == []
    assert unsupported(None, "dev", "u", [SCHEDULED]) == []
    assert unsupported("not a version", "dev", "u", [SCHEDULED]) == []


def test_the_boundary_is_the_first_version() -> None:
    feature = Feature("a thing", (3, 6, 0), lambda deployments: True)
    assert unsupported("3.5.99", "dev", "u", [PLAIN], [feature]) != []
    assert unsupported("3.6.0", "dev", "u", [PLAIN], [feature]) == []
