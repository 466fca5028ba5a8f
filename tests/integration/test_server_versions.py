"""The whole life of a project against the server in use: every managed field of a
deployment and every kind of infrastructure created, an empty second plan, drift shown
and put back, prune; a field newer than the server (a concurrency grace period, 3.6.6)
applied where the server has it and refused, with nothing written, where not; a server
older than the supported range refused.

`make test` runs it against the installed Prefect's server; `make test-compat` once more
against a server of each supported Prefect version (FLOWFLEET_TEST_SERVER_PYTHON, see
compat/), where it is the evidence that flowfleet works with that version.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.model.versions import OLDEST_SERVER, parse_version
from flowfleet.plan import features as server_features
from tests.integration.conftest import Project, api, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")


def _config(s: str, *, with_second: bool = True) -> str:
    second = (
        "  - name: second\n    entrypoint: flows/main.py:main\n    work_pool: {name: pool-dev}\n"
        if with_second
        else ""
    )
    return (
        "work_pools:\n"
        f"  wp-{s}:\n"
        "    type: process\n"
        "    description: the pool\n"
        "    concurrency_limit: 2\n"
        "    base_job_template:\n"
        "      job_configuration: {command: '{{ command }}', env: '{{ env }}'}\n"
        "      variables: {properties: {command: {type: string}, env: {type: object}}}\n"
        "    queues:\n"
        "      critical: {priority: 1, concurrency_limit: 5, description: urgent}\n"
        "      paused-q: {paused: true}\n"
        "    environments: [dev]\n"
        "variables:\n"
        f"  v_{s}: {{value: {{a: 1}}, tags: [team]}}\n"
        "concurrency_limits:\n"
        f"  lim-{s}: {{limit: 3, slot_decay_per_second: 0.5}}\n"
        "blocks:\n"
        f"  secret-{s}: {{type: secret, fields: {{value: not-so-secret}}}}\n"
        "deployments:\n"
        "  - name: everything\n"
        "    entrypoint: flows/main.py:main\n"
        "    environments: {dev: {}}\n"
        "    parameters: {number: 7, name: seven}\n"
        "    tags: [team-a]\n"
        "    version: '1.10'\n"
        "    description: all the fields\n"
        "    paused: true\n"
        "    concurrency_limit: 3\n"
        "    enforce_parameter_schema: true\n"
        "    pull_steps:\n"
        "      - prefect.deployments.steps.set_working_directory: {directory: /opt/code}\n"
        f"    work_pool: {{name: wp-{s}, work_queue_name: critical,\n"
        "                job_variables: {command: echo, env: {STAGE: dev}}}\n"
        "    schedules:\n"
        "      - {cron: '0 6 * * 1-5', timezone: Europe/Berlin, day_or: false}\n"
        "      - {interval: 3600, anchor_date: '2024-01-01T00:30:00', timezone: America/New_York,\n"
        "         max_scheduled_runs: 2}\n"
        "      - {rrule: 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=9', timezone: UTC, active: false,\n"
        "         parameters: {number: 9}, slug: mondays}\n"
        f"{second}"
    )


def _apply(project: Project, *args: str) -> int:
    return dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes", *args])


def _changed_fields(plan: dict[str, Any]) -> dict[str, set[str]]:
    """Changed field names by resource name, deployments and infrastructure alike."""
    return {
        c.get("name") or f"{c['flow']}/{c['deployment']}": {f["field"] for f in c["fields"]}
        for c in plan["changes"]
        if c["action"] == "update"
    }


def test_lifecycle(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:8]
    project.write(_config(s))

    def plan() -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = dispatch(
            ["plan", "-f", str(project.config), "--env", "dev", "--json", "--detailed-exitcode"]
        )
        captured = capsys.readouterr()
        assert code in (0, 2), captured.err
        [environment] = json.loads(captured.out)
        return code, environment

    # plan then apply: everything created
    code, _ = plan()
    assert code == 2
    assert _apply(project) == 0, capsys.readouterr().err
    d = read_deployment(url, project.flow, "everything")
    assert d is not None
    assert d["parameters"] == {"number": 7, "name": "seven"}
    assert sorted(d["tags"]) == sorted(["team-a", f"flowfleet:{project.root.name}/dev"])
    assert (d["version"], d["description"], d["paused"]) == ("1.10", "all the fields", True)
    assert d["global_concurrency_limit"]["limit"] == 3
    assert (d["work_pool_name"], d["work_queue_name"]) == (f"wp-{s}", "critical")
    assert d["job_variables"] == {"command": "echo", "env": {"STAGE": "dev"}}
    assert d["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/opt/code"}}
    ]
    assert d["enforce_parameter_schema"] is True
    assert set(d["parameter_openapi_schema"]["properties"]) == {"number", "name", "when"}
    by_slug = {x["slug"]: x for x in d["schedules"]}
    assert set(by_slug) == {"schedule-1", "schedule-2", "mondays"}
    assert by_slug["schedule-1"]["schedule"] == {
        "cron": "0 6 * * 1-5",
        "timezone": "Europe/Berlin",
        "day_or": False,
    }
    assert by_slug["schedule-2"]["schedule"]["interval"] == 3600
    assert by_slug["schedule-2"]["max_scheduled_runs"] == 2
    assert by_slug["mondays"]["active"] is False
    assert by_slug["mondays"]["parameters"] == {"number": 9}
    pool = api(url, "GET", f"/work_pools/wp-{s}")
    assert (pool["description"], pool["concurrency_limit"]) == ("the pool", 2)
    queue = api(url, "GET", f"/work_pools/wp-{s}/queues/critical")
    assert (queue["priority"], queue["concurrency_limit"]) == (1, 5)
    assert api(url, "GET", f"/work_pools/wp-{s}/queues/paused-q")["is_paused"] is True
    assert api(url, "GET", f"/variables/name/v_{s}")["value"] == {"a": 1}
    limit = api(url, "GET", f"/v2/concurrency_limits/lim-{s}")
    assert (limit["limit"], limit["slot_decay_per_second"]) == (3, 0.5)
    block = api(
        url, "GET", f"/block_types/slug/secret/block_documents/name/secret-{s}?include_secrets=true"
    )
    assert block["data"] == {"value": "not-so-secret"}

    # a second plan is empty
    assert plan()[0] == 0

    # drift on the server is shown field by field and put back
    api(
        url,
        "PATCH",
        f"/deployments/{d['id']}",
        {
            "description": "edited in the UI",
            "paused": False,
            "concurrency_limit": 9,
            "job_variables": {"command": "rm"},
            "tags": [*d["tags"], "added-in-the-ui"],
        },
    )
    api(
        url,
        "PATCH",
        f"/deployments/{d['id']}/schedules/{by_slug['mondays']['id']}",
        {"active": True},
    )
    api(url, "PATCH", f"/work_pools/wp-{s}", {"description": "edited"})
    api(url, "PATCH", f"/work_pools/wp-{s}/queues/critical", {"concurrency_limit": 1})
    api(url, "PATCH", f"/variables/name/v_{s}", {"value": {"a": 2}})
    api(url, "PATCH", f"/v2/concurrency_limits/lim-{s}", {"limit": 8})
    code, drifted = plan()
    assert code == 2
    assert _changed_fields(drifted) == {
        f"{project.flow}/everything": {
            "description",
            "paused",
            "concurrency_limit",
            "job_variables",
            "tags",
            "schedules",
        },
        f"wp-{s}": {"description"},
        f"wp-{s}/critical": {"concurrency_limit"},
        f"v_{s}": {"value"},
        f"lim-{s}": {"limit"},
    }
    assert _apply(project) == 0, capsys.readouterr().err
    restored = read_deployment(url, project.flow, "everything")
    assert restored is not None
    assert (restored["description"], restored["paused"]) == ("all the fields", True)
    assert restored["global_concurrency_limit"]["limit"] == 3
    assert restored["job_variables"] == d["job_variables"]
    assert api(url, "GET", f"/v2/concurrency_limits/lim-{s}")["limit"] == 3
    assert plan()[0] == 0

    # prune: a deployment no longer declared is deleted, nothing else
    project.write(_config(s, with_second=False))
    assert _apply(project, "--prune") == 0, capsys.readouterr().err
    names = {x["name"] for x in deployments_of(url, project.flow)}
    assert names == {"everything"}
    assert plan()[0] == 0


def test_server_is_the_version_under_test(project: Project) -> None:
    """Under `make test-compat`, the servers are of the version named; otherwise of the
    installed Prefect."""
    import prefect

    expected = os.environ.get("FLOWFLEET_TEST_SERVER_VERSION") or prefect.__version__
    assert api(project.servers.url("dev"), "GET", "/admin/version") == expected


def test_a_feature_newer_than_the_server_is_refused_before_any_write(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate end to end: the version read from the real server, a feature first in the
    next minor release (every shipped feature is older than the supported servers, see
    tests/test_server_features.py), the refusal, and nothing written."""
    url = project.servers.url("dev")
    version = api(url, "GET", "/admin/version")
    major, minor, _ = server_features.parse_version(version) or (0, 0, 0)
    newer = server_features.Feature("a future thing", (major, minor + 1, 0), lambda ds: True)
    monkeypatch.setattr(server_features, "FEATURES", (newer,))
    s = uuid.uuid4().hex[:8]
    project.write(
        f"variables:\n  v_{s}: {{value: 1}}\n"
        "deployments:\n  - {name: refused, entrypoint: flows/main.py:main,\n"
        "     work_pool: {name: pool-dev}, environments: {dev: {}}}\n"
    )
    capsys.readouterr()

    assert _apply(project) == 1
    err = capsys.readouterr().err
    assert (
        f"environment 'dev' ({url}) runs Prefect {version}, which lacks a future thing: "
        f"that needs Prefect {major}.{minor + 1}.0 or newer; upgrade the server "
        "(nothing was written)"
    ) in err
    assert "Traceback" not in err
    assert deployments_of(url, project.flow) == []
    assert api(url, "POST", "/flows/filter", {"flows": {"name": {"any_": [project.flow]}}}) == []
    assert (
        api(url, "POST", "/variables/filter", {"variables": {"name": {"any_": [f"v_{s}"]}}}) == []
    )
    assert dispatch(["plan", "-f", str(project.config), "--env", "dev"]) == 1


def test_a_server_older_than_supported_is_refused_before_any_write(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server's version is read before anything else: a supported server is planned;
    one older than Prefect 3.4 (`make test-compat` runs this test against a 3.1 server
    too) is refused, with nothing written."""
    url = project.servers.url("dev")
    version = api(url, "GET", "/admin/version")
    s = uuid.uuid4().hex[:8]
    project.write(
        f"variables:\n  v_{s}: {{value: 1}}\n"
        "deployments:\n  - {name: scheduled, entrypoint: flows/main.py:main,\n"
        "     work_pool: {name: pool-dev}, environments: {dev: {}},\n"
        "     schedules: [{cron: '0 6 * * *', timezone: UTC}]}\n"
    )
    capsys.readouterr()
    plan = ["plan", "-f", str(project.config), "--env", "dev", "--detailed-exitcode"]
    if (parse_version(version) or (0, 0, 0)) >= OLDEST_SERVER:
        assert dispatch(plan) == 2  # changes to make, nothing refused
        assert "upgrade the server" not in capsys.readouterr().err
        return
    assert _apply(project) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: environment 'dev' ({url}) runs Prefect {version}; flowfleet plans and applies "
        "against Prefect 3.4.0 or newer servers (docs/compatibility.md): upgrade the server "
        "(nothing was written)\n"
    )
    assert deployments_of(url, project.flow) == []
    assert api(url, "POST", "/flows/filter", {"flows": {"name": {"any_": [project.flow]}}}) == []
    # not even the lock, the ownership ledger or the generation variable
    names = [v["name"] for v in api(url, "POST", "/variables/filter", {})]
    assert [n for n in names if n == f"v_{s}" or project.root.name.lower() in n] == []
    assert dispatch(plan) == 1


def _everything(url: str) -> dict[str, list[str]]:
    """The names of every flow, deployment and variable on the server (the lock too)."""
    return {
        kind: sorted(x["name"] for x in api(url, "POST", f"/{kind}/filter", {"limit": 200}))
        for kind in ("flows", "deployments", "variables")
    }


def test_a_grace_period_is_applied_where_the_server_has_it_and_refused_where_not(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """`concurrency_limit.grace_period_seconds` (Prefect's concurrency_options) is new in
    Prefect 3.6.6; a 3.4 server would drop it silently, so flowfleet refuses it there.
    Where applied, removing it again (the strategy kept) clears it."""
    url = project.servers.url("dev")
    version = api(url, "GET", "/admin/version")
    s = uuid.uuid4().hex[:8]
    config = (
        f"variables:\n  v_{s}: {{value: 1}}\n"
        "deployments:\n  - name: graceful\n    entrypoint: flows/main.py:main\n"
        "    environments: {dev: {}}\n"
        "    concurrency_limit: {limit: 2, collision_strategy: CANCEL_NEW,\n"
        "                        grace_period_seconds: 600}\n"
    )
    project.write(config)
    before = _everything(url)
    capsys.readouterr()

    code = _apply(project)

    err = capsys.readouterr().err
    if (server_features.parse_version(version) or (0, 0, 0)) >= (3, 6, 6):
        assert code == 0, err
        d = read_deployment(url, project.flow, "graceful")
        assert d is not None
        assert d["global_concurrency_limit"]["limit"] == 2
        assert d["concurrency_options"] == {
            "collision_strategy": "CANCEL_NEW",
            "grace_period_seconds": 600,
        }
        plan = ["plan", "-f", str(project.config), "--env", "dev", "--detailed-exitcode"]
        assert dispatch(plan) == 0, capsys.readouterr().out
        # the grace period removed, the strategy kept: cleared on the server
        project.write(config.replace(",\n                        grace_period_seconds: 600", ""))
        assert _apply(project) == 0, capsys.readouterr().err
        d = read_deployment(url, project.flow, "graceful")
        assert d is not None
        assert d["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        assert d["concurrency_options"].get("grace_period_seconds") is None
        assert dispatch(plan) == 0, capsys.readouterr().out
        return
    assert code == 1
    assert (
        f"environment 'dev' ({url}) runs Prefect {version}, which lacks grace_period_seconds "
        "of a deployment's concurrency_limit: that needs Prefect 3.6.6 or newer; upgrade the "
        "server (nothing was written)"
    ) in err
    assert "Traceback" not in err
    assert _everything(url) == before
    assert deployments_of(url, project.flow) == []


def _renamed_config(slug: str, replaces: str | None) -> str:
    rename = f", replaces: {replaces}" if replaces else ""
    return (
        "deployments:\n  - name: renamed\n    entrypoint: flows/main.py:main\n"
        "    environments: {dev: {}}\n"
        "    schedules:\n"
        f"      - {{cron: '0 6 * * *', timezone: Europe/Berlin, active: false, slug: {slug},\n"
        f"         parameters: {{number: 9}}, max_scheduled_runs: 2{rename}}}\n"
        "      - {interval: 3600, slug: hourly}\n"
    )


def test_a_renamed_schedule_keeps_its_id(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A slug renamed in the config (`replaces: <old slug>`) is planned as a rename (text,
    JSON, Markdown) and applied in place: the same schedule, same id, with its settings,
    on every supported server; the `replaces` left in the config then changes nothing."""
    url = project.servers.url("dev")
    project.write(_renamed_config("daily", None))
    assert _apply(project) == 0, capsys.readouterr().err
    before = read_deployment(url, project.flow, "renamed")
    assert before is not None
    ids = {s["slug"]: s["id"] for s in before["schedules"]}
    assert set(ids) == {"daily", "hourly"}

    project.write(_renamed_config("nightly", "daily"))
    plan = ["plan", "-f", str(project.config), "--env", "dev", "--detailed-exitcode"]
    capsys.readouterr()
    assert dispatch([*plan, "--json"]) == 2
    [environment] = json.loads(capsys.readouterr().out)
    [change] = environment["changes"]
    assert (change["action"], change["fields"]) == (
        "update",
        [{"field": "schedules[daily].slug", "old": "daily", "new": "nightly"}],
    )
    assert dispatch(plan) == 2
    text = capsys.readouterr().out
    assert f"  ~ {project.flow}/renamed  update\n" in text
    assert '      schedules[daily].slug: "daily" → "nightly"\n' in text
    assert dispatch([*plan, "--format", "markdown"]) == 2
    row = f"| ~ | `{project.flow}/renamed` | update: `schedules[daily].slug` → `nightly` |"
    assert row in capsys.readouterr().out

    assert _apply(project) == 0, capsys.readouterr().err
    after = read_deployment(url, project.flow, "renamed")
    assert after is not None
    by_slug = {s["slug"]: s for s in after["schedules"]}
    assert {slug: s["id"] for slug, s in by_slug.items()} == {
        "nightly": ids["daily"],
        "hourly": ids["hourly"],
    }
    nightly = by_slug["nightly"]
    assert nightly["schedule"]["cron"] == "0 6 * * *"
    assert nightly["schedule"]["timezone"] == "Europe/Berlin"
    assert (nightly["active"], nightly["parameters"]) == (False, {"number": 9})
    assert nightly["max_scheduled_runs"] == 2
    assert dispatch(plan) == 0, capsys.readouterr().out  # `replaces: daily` still there


def test_a_collision_strategy_is_applied_changed_and_removed(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """`concurrency_limit: {limit, collision_strategy}` (Prefect's concurrency_options,
    not gated: every supported server has it) set, changed and removed, each time read
    back as declared with nothing left to plan."""
    url = project.servers.url("dev")
    plan = ["plan", "-f", str(project.config), "--env", "dev", "--detailed-exitcode"]

    def declare(limit: str) -> dict[str, Any]:
        project.write(
            "deployments:\n  - name: limited\n    entrypoint: flows/main.py:main\n"
            f"    environments: {{dev: {{}}}}\n    concurrency_limit: {limit}\n"
        )
        assert _apply(project) == 0, capsys.readouterr().err
        assert dispatch(plan) == 0, capsys.readouterr().out
        d = read_deployment(url, project.flow, "limited")
        assert d is not None
        return d

    created = declare("{limit: 2, collision_strategy: CANCEL_NEW}")
    assert created["global_concurrency_limit"]["limit"] == 2
    assert created["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    changed = declare("{limit: 3, collision_strategy: ENQUEUE}")
    assert changed["global_concurrency_limit"]["limit"] == 3
    assert changed["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    changed = declare("{limit: 3, collision_strategy: CANCEL_NEW}")
    assert changed["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    removed = declare("3")
    assert removed["concurrency_options"] is None
    assert removed["global_concurrency_limit"]["limit"] == 3
    assert removed["id"] == created["id"]
