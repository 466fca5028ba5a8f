"""export: deployments made by `prefect deploy` → flowfleet.yaml → plan --adopt changes no
field (only the ownership marker is added) → apply --adopt → an empty plan."""

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

    flows = [arg for f in (project.flow, second, third) for arg in ("--flow", f)]
    export = ["export", "--env", "dev", "--api-url", url, *flows, "--out", str(project.config)]
    assert dispatch(export) == 0
    capsys.readouterr()
    text = project.config.read_text()
    assert text.startswith("# yaml-language-server: $schema=flowfleet.schema.json\n")
    exported = yaml.safe_load(text)
    assert exported["environments"] == {"dev": {"api_url": url}}
    # made through the API without a template: the server keeps it empty
    assert exported["work_pools"] == {pool: {"type": "process", "base_job_template": {}}}
    assert exported["defaults"]["work_pool"] == {"name": pool}
    assert [d["name"] for d in exported["deployments"]] == ["daily", "hourly", "weekly", "manual"]
    assert dispatch(["validate", "-f", str(project.config)]) == 0
    capsys.readouterr()

    args = ["-f", str(project.config), "--env", "dev"]
    assert dispatch(["plan", *args, "--adopt", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    marker = f"flowfleet:{project.root.name}/dev"
    deployments = [c for c in plan["changes"] if "deployment" in c]
    assert len(deployments) == 4
    for change in deployments:  # adopting only: the marker tag is the one change
        assert change["action"] == "update", change
        [tags] = change["fields"]
        assert tags["field"] == "tags" and tags["new"] == sorted([*tags["old"], marker])
    assert [(c["kind"], c["action"]) for c in plan["changes"] if "kind" in c] == [
        ("work_pool", "unchanged")
    ]

    assert dispatch(["apply", *args, "--adopt", "--yes"]) == 0
    assert dispatch(["plan", *args, "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out


def test_export_refuses_to_overwrite(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.config.write_text("keep me\n")
    url = project.servers.url("dev")
    args = ["export", "--env", "dev", "--api-url", url, "--out", str(project.config)]
    assert dispatch(args) == 1
    assert "exists; pass --force to overwrite it" in capsys.readouterr().err
    assert project.config.read_text() == "keep me\n"
