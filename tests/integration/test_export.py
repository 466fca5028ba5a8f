"""export: deployments (with triggers) made by `prefect deploy`, and automations made in
the UI → flowfleet.yaml → plan --adopt changes no field (only the ownership marker is
added) → apply --adopt (the automations keep their ids) → an empty plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree
from tests.integration.conftest import Project, api, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

REPO = Path(__file__).resolve().parents[2]
SHIM = REPO / "bench" / "shim"  # Prefect 3.8.8's `prefect deploy` fails on an existing pool

OTHER_FLOWS = '''from prefect import flow


@flow(name="SECOND")
def second(day: str = "mon", limit: int = 10):
    """Second flow."""
    return day


@flow(name="THIRD")
def third():
    return 3
'''


def _daily_triggers(flow: str) -> list[dict[str, Any]]:
    """An event, a Proactive and a compound trigger, as Prefect's docs write them."""
    return [
        {
            "enabled": True,
            "match": {"prefect.resource.id": "my.external.resource"},
            "expect": ["external.resource.pinged"],
            "parameters": {"number": 5, "name": "{{ event.resource.name }}"},
        },
        {
            "name": f"{flow}-on-ping",
            "description": "no ping for an hour",
            "posture": "Proactive",
            "expect": ["b.ping", "a.ping"],
            "within": 3600,
            "schedule_after": 30,
            "job_variables": {"env": {"STAGE": "late"}},
        },
        {
            "type": "compound",
            "require": "any",
            "within": 120,
            "triggers": [{"expect": ["x.one"]}, {"expect": ["x.two"]}],
        },
    ]


def _prefect_yaml(project: Project, pool: str) -> dict[str, Any]:
    return {
        "name": "adopt-me",
        "prefect-version": "3.8.8",
        "pull": [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(project.root)}}
        ],
        "deployments": [
            {
                "name": "daily",
                "entrypoint": "flows/main.py:main",
                "parameters": {"number": 3, "name": "from prefect deploy"},
                "tags": ["team-a", "etl"],
                "schedules": [{"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"}],
                "work_pool": {"name": pool, "job_variables": {"env": {"STAGE": "dev"}}},
                "triggers": _daily_triggers(project.flow),
            },
            {
                "name": "hourly",
                "entrypoint": "flows/main.py:main",
                "tags": ["team-a"],
                "schedules": [{"interval": 3600}, {"cron": "30 2 * * *"}],
                "work_pool": {"name": pool, "work_queue_name": "slow"},
            },
            {
                "name": "weekly",
                "entrypoint": "flows/other.py:second",
                "description": "Mondays.\nAnd a second line.",
                "parameters": {"day": "tue"},
                "schedules": [{"rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7"}],
                "work_pool": {"name": pool},
                "triggers": [
                    {
                        "type": "sequence",
                        "enabled": False,
                        "triggers": [{"expect": ["s.one"]}, {"expect": ["s.two"]}],
                    }
                ],
            },
            {
                "name": "manual",
                "entrypoint": "flows/other.py:third",
                "version": "1.2.0",
                "work_pool": {"name": pool},
            },
        ],
    }


def _prefect_deploy(project: Project, url: str, pool: str) -> None:
    path = project.root / "prefect.yaml"
    path.write_text(yaml.safe_dump(_prefect_yaml(project, pool), sort_keys=False))
    prefect_deploy(project, url)


def prefect_deploy(project: Project, url: str) -> None:
    """`prefect deploy --all` of the project's prefect.yaml against the server at `url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_API_URL=url, PYTHONPATH=str(SHIM), DO_NOT_TRACK="1")
    prefect = Path(sys.executable).parent / "prefect"
    done = subprocess.run(
        [str(prefect), "--no-prompt", "deploy", "--all"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _ui_automations(url: str, flow: str, pool: str) -> None:
    """Automations made in the UI: one that refers to an exported deployment, its pool, a
    queue, a trigger's automation and a webhook block; one about nothing exported."""
    daily = api(url, "GET", f"/deployments/name/{flow}/daily")["id"]
    pool_id = api(url, "GET", f"/work_pools/{pool}")["id"]
    queue = api(url, "GET", f"/work_pools/{pool}/queues/default")["id"]
    on_ping = _automations_named(url, f"{flow}-on-ping")[0]["id"]
    webhook = api(url, "GET", "/block_types/slug/webhook")
    schemas = {"block_schemas": {"block_type_id": {"any_": [webhook["id"]]}}}
    [schema] = api(url, "POST", "/block_schemas/filter", schemas)
    block = api(
        url,
        "POST",
        "/block_documents/",
        {
            "name": f"{flow}-hook",
            "block_type_id": webhook["id"],
            "block_schema_id": schema["id"],
            "data": {"method": "POST", "url": "https://example.com/hook"},
        },
    )
    selected = {"source": "selected"}
    api(url, "POST", "/automations/", {
        "name": f"{flow}-on-failures",
        "tags": ["ops"],
        "trigger": {
            "type": "event",
            "expect": ["prefect.flow-run.Failed"],
            "match_related": {"prefect.resource.name": flow},
            "posture": "Reactive",
            "threshold": 3,
            "within": 600,
        },
        "actions": [
            {"type": "pause-deployment", **selected, "deployment_id": daily},
            {"type": "pause-work-queue", **selected, "work_queue_id": queue},
            {"type": "pause-automation", **selected, "automation_id": on_ping},
            {"type": "call-webhook", "block_document_id": block["id"], "payload": "{{ event }}"},
        ],
        "actions_on_resolve": [
            {"type": "resume-work-pool", **selected, "work_pool_id": pool_id},
            {"type": "change-flow-run-state", "state": "CANCELLED", "message": "resolved"},
        ],
    })  # fmt: skip
    api(url, "POST", "/automations/", {
        "name": f"{flow}-unrelated",
        "trigger": {"type": "event", "expect": ["other.event"], "posture": "Reactive"},
        "actions": [{"type": "do-nothing"}],
    })  # fmt: skip


def _automations_named(url: str, *names: str) -> list[dict[str, Any]]:
    body = {"automations": {"name": {"any_": list(names)}}}
    return api(url, "POST", "/automations/filter", body)  # type: ignore[no-any-return]


def _check_exported_automations(exported: dict[str, Any], flow: str, pool: str) -> None:
    """Triggers in prefect.yaml's compact form; the UI's automation by names; nothing else."""
    daily, weekly = exported["deployments"][0], exported["deployments"][2]
    assert daily["triggers"] == [
        {
            "match": {"prefect.resource.id": "my.external.resource"},
            "expect": ["external.resource.pinged"],
            "parameters": {"number": 5, "name": "{{ event.resource.name }}"},
        },
        {
            "name": f"{flow}-on-ping",
            "description": "no ping for an hour",
            "expect": ["a.ping", "b.ping"],
            "posture": "Proactive",
            "within": 3600,
            "job_variables": {"env": {"STAGE": "late"}},
            "schedule_after": 30,
        },
        {
            "type": "compound",
            "require": "any",
            "within": 120,
            "triggers": [{"expect": ["x.one"]}, {"expect": ["x.two"]}],
        },
    ]
    assert weekly["triggers"] == [
        {
            "type": "sequence",
            "enabled": False,
            "triggers": [{"expect": ["s.one"]}, {"expect": ["s.two"]}],
        }
    ]
    assert [d.get("triggers") for d in exported["deployments"][1::2]] == [None, None]
    assert exported["automations"] == {
        f"{flow}-on-failures": {
            "tags": ["ops"],
            "trigger": {
                "match_related": {"prefect.resource.name": flow},
                "expect": ["prefect.flow-run.Failed"],
                "threshold": 3,
                "within": 600,
            },
            "actions": [
                {"type": "pause-deployment", "deployment": f"{flow}/daily"},
                {"type": "pause-work-queue", "work_queue": f"{pool}/default"},
                {"type": "pause-automation", "automation": f"{flow}-on-ping"},
                {"type": "call-webhook", "block": f"webhook/{flow}-hook", "payload": "{{ event }}"},
            ],
            "actions_on_resolve": [
                {"type": "resume-work-pool", "work_pool": pool},
                {"type": "change-flow-run-state", "state": "CANCELLED", "message": "resolved"},
            ],
        }
    }


def test_export_of_prefect_deploy_round_trips(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    pool = f"export-{uuid.uuid4().hex[:8]}"
    api(url, "POST", "/work_pools/", {"name": pool, "type": "process"})
    second, third = f"{project.flow}-second", f"{project.flow}-third"
    other = OTHER_FLOWS.replace("SECOND", second).replace("THIRD", third)
    write_tree(project.root, {"flows/other.py": other})
    _prefect_deploy(project, url, pool)
    names = {d["name"] for f in (project.flow, second, third) for d in deployments_of(url, f)}
    assert names == {"daily", "hourly", "weekly", "manual"}
    _ui_automations(url, project.flow, pool)

    flows = [arg for f in (project.flow, second, third) for arg in ("--flow", f)]
    export = ["export", "--env", "dev", "--api-url", url, *flows, "--out", str(project.config)]
    assert dispatch(export) == 0
    assert capsys.readouterr().out.endswith(
        f"4 deployment(s), 1 work pool(s), 5 automation(s) from {url}\n"
    )
    text = project.config.read_text()
    assert text.startswith("# yaml-language-server: $schema=flowfleet.schema.json\n")
    exported = yaml.safe_load(text)
    assert exported["environments"] == {"dev": {"api_url": url}}
    # made through the API without a template: the server keeps it empty
    assert exported["work_pools"] == {pool: {"type": "process", "base_job_template": {}}}
    assert exported["defaults"]["work_pool"] == {"name": pool}
    assert [d["name"] for d in exported["deployments"]] == ["daily", "hourly", "weekly", "manual"]
    _check_exported_automations(exported, project.flow, pool)
    assert dispatch(["validate", "-f", str(project.config)]) == 0
    capsys.readouterr()

    args = ["-f", str(project.config), "--env", "dev"]
    assert dispatch(["plan", *args, "--adopt", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    _check_adoption_only(plan["changes"], f"flowfleet:{project.root.name}/dev")

    kinds = ("trigger", "automation")
    automation_names = [c["name"].split("/")[-1] for c in plan["changes"] if c.get("kind") in kinds]
    before = {a["name"]: a["id"] for a in _automations_named(url, *automation_names)}
    assert dispatch(["apply", *args, "--adopt", "--yes"]) == 0
    after = {a["name"]: a["id"] for a in _automations_named(url, *automation_names)}
    assert after == before  # adopted in place: the same automations, no new ones
    assert dispatch(["plan", *args, "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out


def _check_adoption_only(changes: list[dict[str, Any]], marker: str) -> None:
    """Adopting only: each deployment's and automation's one change is the ownership tags
    (a trigger's also flowfleet:trigger); the work pool is unchanged."""
    infra = [(c["kind"], c["action"]) for c in changes if "kind" in c]
    updates = [*[("trigger", "update")] * 4, ("automation", "update")]
    assert infra == [("work_pool", "unchanged"), *updates]
    adopted = [c for c in changes if c.get("kind") != "work_pool"]
    assert len(adopted) == 4 + 5  # the deployments, then the automations
    for change in adopted:
        assert change["action"] == "update", change
        [tags] = change["fields"]
        owned = [marker, "flowfleet:trigger"] if change.get("kind") == "trigger" else [marker]
        assert tags["field"] == "tags" and tags["new"] == sorted([*tags["old"], *owned])


def test_export_refuses_to_overwrite(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.config.write_text("keep me\n")
    url = project.servers.url("dev")
    args = ["export", "--env", "dev", "--api-url", url, "--out", str(project.config)]
    assert dispatch(args) == 1
    assert "exists; pass --force to overwrite it" in capsys.readouterr().err
    assert project.config.read_text() == "keep me\n"
