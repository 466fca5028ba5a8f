"""The version gate as pure logic: which features a server of a given version lacks.
(Against real servers: tests/integration/test_server_versions.py.)"""

from __future__ import annotations

import pytest

from flowfleet.model.resources import Deployment, Schedule
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


def test_an_older_server_is_refused_what_it_lacks_with_all_the_facts() -> None:
    [error] = unsupported("3.1.15", "prod", "https://prefect.example/api", [PLAIN, SCHEDULED])
    assert error == (
        "environment 'prod' (https://prefect.example/api) runs Prefect 3.1.15, which lacks "
        "deployment schedules with slugs and their own parameters (how flowfleet sends every "
        "schedule): that needs Prefect 3.2.0 or newer; upgrade the server (nothing was written)"
    )


@pytest.mark.parametrize("version", ["3.2.0", "3.4.25", "3.6.29", "3.8.8", "3.9.1", "4.0.0"])
def test_supported_servers_have_every_feature(version: str) -> None:
    everything = [
        SCHEDULED.model_copy(
            update={"pull_steps": ({"step": {}},), "parameter_openapi_schema": {"type": "object"}}
        )
    ]
    assert all(f.used(everything) for f in FEATURES)
    assert unsupported(version, "dev", "u", everything) == []


def test_unused_features_and_unknown_versions_are_not_gated() -> None:
    assert unsupported("3.1.0", "dev", "u", [PLAIN]) == []
    assert unsupported(None, "dev", "u", [SCHEDULED]) == []
    assert unsupported("not a version", "dev", "u", [SCHEDULED]) == []


def test_the_boundary_is_the_first_version() -> None:
    feature = Feature("a thing", (3, 6, 0), lambda deployments: True)
    assert unsupported("3.5.99", "dev", "u", [PLAIN], [feature]) != []
    assert unsupported("3.6.0", "dev", "u", [PLAIN], [feature]) == []
