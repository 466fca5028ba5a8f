"""plan and apply against two real Prefect servers."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Project, api, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

FULL = """
defaults:
  tags: [team-a]
  work_pool: {name: "pool-{env}", job_variables: {env: {STAGE: "{env}"}}}
  pull_steps:
    - prefect.deployments.steps.set_working_directory: {directory: /opt/code}
deployments:
  - name: everything
    entrypoint: flows/main.py:main
    parameters: {number: 7, name: seven}
    version: "1.10"
    description: all the fields
    paused: true
    concurrency_limit: 3
    work_pool: {work_queue_name: q1, job_variables: {image: "img:1"}}
    schedules:
      - {cron: "0 6 * * 1-5", timezone: Europe/Berlin, day_or: false}
      - {interval: 3600, anchor_date: "2024-01-01T00:30:00", timezone: America/New_York}
      - {rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", timezone: UTC, active: false,
         parameters: {number: 9}, slug: mondays}
  - name: simple
    entrypoint: flows/main.py:main
"""


def apply(project: Project, *args: str) -> int:
    return dispatch(["apply", "-f", str(project.config), "--yes", *args])


def test_apply_creates_every_field(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.write(FULL)
    assert apply(project, "--env", "dev") == 0, capsys.readouterr().err

    d = read_deployment(project.servers.url("dev"), project.flow, "everything")
    assert d is not None
    assert d["parameters"] == {"number": 7, "name": "seven"}
    assert sorted(d["tags"]) == sorted(["team-a", f"flowfleet:{project.root.name}/dev"])
    assert d["version"] == "1.10"
    assert d["description"] == "all the fields"
    assert d["paused"] is True
    assert d["global_concurrency_limit"]["limit"] == 3
    assert d["work_pool_name"] == "pool-dev"
    assert d["work_queue_name"] == "q1"
    assert d["job_variables"] == {"env": {"STAGE": "dev"}, "image": "img:1"}
    assert d["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/opt/code"}}
    ]
    assert d["entrypoint"] == "flows/main.py:main"
    assert d["enforce_parameter_schema"] is True
    assert set(d["parameter_openapi_schema"]["properties"]) == {"number", "name", "when"}
    by_slug = {s["slug"]: s for s in d["schedules"]}
    assert set(by_slug) == {"schedule-1", "schedule-2", "mondays"}
    cron = by_slug["schedule-1"]
    assert cron["schedule"] == {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin", "day_or": False}
    assert cron["active"] is True
    interval = by_slug["schedule-2"]["schedule"]
    assert interval["interval"] == 3600
    assert interval["timezone"] == "America/New_York"
    anchor = datetime.fromisoformat(interval["anchor_date"].replace("Z", "+00:00"))
    assert anchor.isoformat() in ("2024-01-01T05:30:00+00:00", "2024-01-01T00:30:00-05:00")
    mondays = by_slug["mondays"]
    assert "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9" in mondays["schedule"]["rrule"]
    assert mondays["schedule"]["timezone"] == "UTC"
    assert mondays["active"] is False
    assert mondays["parameters"] == {"number": 9}
    # prod was not selected: nothing there
    assert deployments_of(project.servers.url("prod"), project.flow) == []


def test_second_apply_writes_nothing_and_plan_is_empty(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(FULL)
    assert apply(project) == 0
    before = {
        env: {
            d["name"]: d["updated"] for d in deployments_of(project.servers.url(env), project.flow)
        }
        for env in ("dev", "prod")
    }
    capsys.readouterr()

    assert apply(project, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["results"] == []
    assert all(not p["has_changes"] for p in result["plans"])
    after = {
        env: {
            d["name"]: d["updated"] for d in deployments_of(project.servers.url(env), project.flow)
        }
        for env in ("dev", "prod")
    }
    assert after == before
    assert dispatch(["plan", "-f", str(project.config), "--detailed-exitcode"]) == 0


def test_drift_is_shown_and_put_back(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.write(FULL)
    assert apply(project, "--env", "prod") == 0
    url = project.servers.url("prod")
    live = read_deployment(url, project.flow, "everything")
    assert live is not None
    api(
        url,
        "PATCH",
        f"/deployments/{live['id']}",
        {"description": "edited in the UI", "parameters": {"number": 8, "name": "ui"}},
    )
    capsys.readouterr()

    code = dispatch(
        ["plan", "-f", str(project.config), "--env", "prod", "--json", "--detailed-exitcode"]
    )
    assert code == 2
    [plan] = json.loads(capsys.readouterr().out)
    [change] = [c for c in plan["changes"] if c["action"] == "update"]
    fields = {f["field"]: (f["old"], f["new"]) for f in change["fields"]}
    assert fields == {
        "description": ("edited in the UI", "all the fields"),
        "parameters": ({"name": "ui", "number": 8}, {"name": "seven", "number": 7}),
    }

    assert apply(project, "--env", "prod") == 0
    restored = read_deployment(url, project.flow, "everything")
    assert restored is not None
    assert restored["description"] == "all the fields"
    assert restored["parameters"] == {"number": 7, "name": "seven"}
    assert (
        dispatch(["plan", "-f", str(project.config), "--env", "prod", "--detailed-exitcode"]) == 0
    )


OPTIONS = """
deployments:
  - name: limited
    entrypoint: flows/main.py:main
    environments: {dev: {}}
    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW, grace_period_seconds: 600}
  - name: enqueue
    entrypoint: flows/main.py:main
    environments: {dev: {}}
    concurrency_limit: {limit: 1, collision_strategy: ENQUEUE}
"""


def test_concurrency_options_are_applied_read_back_and_put_back(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    project.write(OPTIONS)

    def plan() -> tuple[int, dict[str, dict[str, tuple[object, object]]]]:
        capsys.readouterr()
        code = dispatch(
            ["plan", "-f", str(project.config), "--env", "dev", "--json", "--detailed-exitcode"]
        )
        [environment] = json.loads(capsys.readouterr().out)
        return code, {
            c["deployment"]: {f["field"]: (f["old"], f["new"]) for f in c["fields"]}
            for c in environment["changes"]
            if c["action"] == "update"
        }

    assert apply(project, "--env", "dev") == 0, capsys.readouterr().err
    limited = read_deployment(url, project.flow, "limited")
    enqueue = read_deployment(url, project.flow, "enqueue")
    assert limited is not None and enqueue is not None
    assert limited["global_concurrency_limit"]["limit"] == 2
    assert limited["concurrency_options"] == {
        "collision_strategy": "CANCEL_NEW",
        "grace_period_seconds": 600,
    }
    assert enqueue["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    assert enqueue["concurrency_options"].get("grace_period_seconds") is None
    assert plan() == (0, {})

    # drift: changed options are put back; removed ENQUEUE options are the same to the server
    drifted = {"collision_strategy": "ENQUEUE", "grace_period_seconds": 120}
    api(url, "PATCH", f"/deployments/{limited['id']}", {"concurrency_options": drifted})
    api(url, "PATCH", f"/deployments/{enqueue['id']}", {"concurrency_options": None})
    assert plan() == (
        2,
        {
            "limited": {
                "concurrency_options": (
                    drifted,
                    {"collision_strategy": "CANCEL_NEW", "grace_period_seconds": 600},
                )
            }
        },
    )
    assert apply(project, "--env", "dev") == 0, capsys.readouterr().err
    restored = read_deployment(url, project.flow, "limited")
    assert restored is not None
    assert restored["concurrency_options"] == limited["concurrency_options"]
    assert plan() == (0, {})

    # options removed from the config: removed on the server, the limit stays
    project.write(
        OPTIONS.replace(
            "{limit: 2, collision_strategy: CANCEL_NEW, grace_period_seconds: 600}", "2"
        )
    )
    assert apply(project, "--env", "dev") == 0, capsys.readouterr().err
    cleared = read_deployment(url, project.flow, "limited")
    assert cleared is not None
    assert cleared["concurrency_options"] is None
    assert cleared["global_concurrency_limit"]["limit"] == 2
    assert plan() == (0, {})
