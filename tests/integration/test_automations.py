"""Triggers and automations against real servers: an event makes a run through a
deployment's trigger and pauses a deployment through a standalone automation (a server
with its services running); a second apply sends no automation write and keeps ids and
`updated`; a change made in the API is shown as drift and reverted in place; a lost
create answer leaves exactly one automation; removed triggers are deleted."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.plan.deployments import ownership_marker
from flowfleet.server.local import LocalServer, ServerInfo
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.integration.conftest import Project, api, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """A server running its services (the triggers service evaluates automations)."""
    python = os.environ.get("FLOWFLEET_TEST_SERVER_PYTHON") or None
    server = LocalServer(tmp_path_factory.mktemp("events"), "events", python=python, ui=False)
    info = server.start(services=True)
    try:
        yield info
    finally:
        server.stop()


def _automations(url: str, name: str | None = None) -> list[dict[str, Any]]:
    body = {"automations": {"name": {"any_": [name]}}} if name else {}
    return api(url, "POST", "/automations/filter", body)  # type: ignore[no-any-return]


def _emit(url: str, event: str, resource: str) -> None:
    occurred = datetime.now(timezone.utc).isoformat()
    body = [
        {
            "id": str(uuid.uuid4()),
            "occurred": occurred,
            "event": event,
            "resource": {"prefect.resource.id": resource},
            "related": [],
            "payload": {},
        }
    ]
    api(url, "POST", "/events", body)


def _until(check: Callable[[], bool], emit: Callable[[], None], seconds: float = 90) -> bool:
    """Emit, then wait for `check`; emit again every 15 s (the triggers service loads a new
    automation a few seconds after it is created)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        emit()
        for _ in range(30):
            if check():
                return True
            time.sleep(0.5)
    return False


def _config(project: Project, url: str, s: str, *, description: str = "pause it") -> Path:
    return project.write(
        "automations:\n"
        f"  pause-{s}:\n"
        f"    description: {description}\n"
        f"    trigger: {{expect: [test.pause], match: {{prefect.resource.id: thing.{s}}}}}\n"
        "    actions:\n"
        "      - {type: pause-deployment, deployment: FLOW/hello}\n"
        "deployments:\n"
        "  - name: hello\n"
        "    entrypoint: flows/main.py:main\n"
        "    triggers:\n"
        f"      - expect: [test.ping]\n"
        f"        match: {{prefect.resource.id: thing.{s}}}\n"
        "        parameters: {name: '{{ event.resource.id }}', number: 7}\n"
        "      - type: compound\n"
        "        require: any\n"
        "        within: 120\n"
        "        triggers: [{expect: [a]}, {expect: [b], posture: Proactive}]\n",
        header=f"project: auto-{s}\nenvironments:\n  dev: {{api_url: '{url}'}}\n",
    )


def test_an_event_runs_the_deployment_and_an_automation_pauses_it(
    project: Project, events_server: ServerInfo
) -> None:
    url = events_server.api_url
    s = uuid.uuid4().hex[:6]
    config = _config(project, url, s)
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    deployment = read_deployment(url, project.flow, "hello")
    assert deployment is not None and deployment["paused"] is False

    def runs() -> list[dict[str, Any]]:
        body = {"deployments": {"id": {"any_": [deployment["id"]]}}}
        return api(url, "POST", "/flow_runs/filter", body)  # type: ignore[no-any-return]

    assert _until(lambda: bool(runs()), lambda: _emit(url, "test.ping", f"thing.{s}"))
    run = runs()[0]
    assert run["parameters"] == {"name": f"thing.{s}", "number": 7}  # the template, filled in

    def paused() -> bool:
        found = read_deployment(url, project.flow, "hello")
        return found is not None and found["paused"] is True

    assert _until(paused, lambda: _emit(url, "test.pause", f"thing.{s}"))


def test_a_second_apply_sends_no_automation_write_and_drift_is_reverted_in_place(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    with FaultProxy(url.removesuffix("/api"), FaultPlan()) as proxy:
        config = _config(project, proxy.url, s)
        assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
        mine = _owned(url, s)
        assert sorted(a["name"] for a in mine) == [
            "hello__automation_1",
            "hello__automation_2",
            f"pause-{s}",
        ]
        before = {a["id"]: a["updated"] for a in mine}
        sent = len(proxy.log)
        assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
        second = proxy.log[sent:]
    automation_requests = [r for r in second if "/automations" in r.path]
    assert [r for r in automation_requests if r.is_write] == []
    assert {r.path.rsplit("/api", 1)[-1] for r in automation_requests} == {"/automations/filter"}
    assert {a["id"]: a["updated"] for a in _owned(url, s)} == before
    capsys.readouterr()

    # A change made in the API: shown as drift, then reverted in place (the same id).
    (edited,) = [a for a in mine if a["name"] == f"pause-{s}"]
    body = {k: edited[k] for k in ("name", "tags", "trigger", "actions")}
    api(url, "PUT", f"/automations/{edited['id']}", {**body, "description": "from the UI"})
    config = _config(project, url, s)
    assert dispatch(["plan", "--detailed-exitcode", "-f", str(config)]) == 2
    shown = capsys.readouterr().out
    assert f"~ automation/pause-{s}  update" in shown
    assert '      description: "from the UI" → "pause it"' in shown
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    (after,) = _automations(url, f"pause-{s}")
    assert after["id"] == edited["id"] and after["description"] == "pause it"
    assert dispatch(["plan", "--detailed-exitcode", "-f", str(config)]) == 0


def _owned(url: str, s: str) -> list[dict[str, Any]]:
    body = {"automations": {"tags": {"all_": [ownership_marker(f"auto-{s}", "dev")]}}}
    return api(url, "POST", "/automations/filter", body)  # type: ignore[no-any-return]


def test_a_lost_create_answer_leaves_one_automation(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    plan = FaultPlan(seed=3, lose={"automation": 1.0})
    with FaultProxy(url.removesuffix("/api"), plan) as proxy:
        config = _config(project, proxy.url, s)
        assert dispatch(["apply", "--yes", "-f", str(config)]) == 0, capsys.readouterr().err
        lost = proxy.lost_by_kind()
    assert lost == {"automation": 3}  # every create's answer, once
    names = sorted(a["name"] for a in _owned(url, s))
    assert names == ["hello__automation_1", "hello__automation_2", f"pause-{s}"]
    config = _config(project, url, s)
    assert dispatch(["plan", "--detailed-exitcode", "-f", str(config)]) == 0


def test_a_duplicate_is_shown_and_removed(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """One that slipped through (made here by hand, as a lost answer could): the next
    plan deletes it and keeps the first."""
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    config = _config(project, url, s)
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    (first,) = _automations(url, f"pause-{s}")
    copy = {k: first[k] for k in ("name", "description", "tags", "trigger", "actions")}
    api(url, "POST", "/automations/", copy)
    capsys.readouterr()
    assert dispatch(["plan", "--detailed-exitcode", "-f", str(config)]) == 2
    assert "a duplicate (an earlier create's answer was lost)" in capsys.readouterr().out
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    assert [a["id"] for a in _automations(url, f"pause-{s}")] == [first["id"]]


def test_a_removed_trigger_is_deleted_and_unowned_automations_are_left_alone(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    config = _config(project, url, s)
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    stranger = {
        "name": "hello__automation_9",
        "trigger": {"type": "event", "expect": ["x"], "posture": "Reactive"},
        "actions": [{"type": "do-nothing"}],
    }
    api(url, "POST", "/automations/", stranger)
    text = config.read_text()
    without = text.split("      - type: compound")[0]  # the second trigger removed
    without = without.replace(f"  pause-{s}:", f"  kept-{s}:")  # the standalone renamed
    config.write_text(without)
    capsys.readouterr()
    assert dispatch(["plan", "-f", str(config)]) == 0
    shown = capsys.readouterr().out
    assert f"- trigger/{project.flow}/hello/hello__automation_2  delete" in shown
    assert f"+ automation/kept-{s}  create" in shown
    assert f"pause-{s}  delete" not in shown  # standalone ones go only with --prune
    assert dispatch(["apply", "--yes", "-f", str(config)]) == 0
    assert sorted(a["name"] for a in _owned(url, s)) == [
        "hello__automation_1",
        f"kept-{s}",
        f"pause-{s}",
    ]
    assert dispatch(["apply", "--yes", "--prune", "-f", str(config)]) == 0
    assert sorted(a["name"] for a in _owned(url, s)) == ["hello__automation_1", f"kept-{s}"]
    assert _automations(url, "hello__automation_9") != []  # not flowfleet's: never touched
