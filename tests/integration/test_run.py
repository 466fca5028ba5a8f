"""A process worker runs a deployed flow to COMPLETED with the declared parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.local import terminate
from tests.integration.conftest import Project, Servers, api

pytestmark = pytest.mark.xdist_group("servers")


@pytest.fixture
def worker(servers: Servers, tmp_path: Path) -> Iterator[None]:
    env = {
        **os.environ,
        "PREFECT_API_URL": servers.url("dev"),
        "PREFECT_HOME": str(tmp_path / "worker-home"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1",
        "DO_NOT_TRACK": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "pool-dev"],
        env=env,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield
    finally:
        terminate(process.pid, grace=5)


def test_worker_runs_deployment_to_completed(
    project: Project, worker: None, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(
        f"""
deployments:
  - name: greet
    entrypoint: flows/main.py:main
    parameters: {{number: 3, name: fleet}}
    work_pool: {{name: pool-dev}}
    pull_steps:
      - prefect.deployments.steps.set_working_directory: {{directory: "{project.root}"}}
    environments: {{dev: {{}}}}
"""
    )
    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    capsys.readouterr()

    code = dispatch(
        [
            "run",
            f"{project.flow}/greet",
            "-f",
            str(project.config),
            "--env",
            "dev",
            "--wait",
            "--timeout",
            "180",
            "--json",
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)
    assert result["state"] == "COMPLETED"
    assert result["parameters"] == {"number": 3, "name": "fleet"}
    assert any("fleet 3" in line for line in result["logs"]), result["logs"]
    flow_run = api(project.servers.url("dev"), "GET", f"/flow_runs/{result['id']}")
    assert flow_run["state"]["type"] == "COMPLETED"
