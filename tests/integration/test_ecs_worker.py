"""The real prefect-aws ECS worker runs a deployed example flow run into RunTask, against
moto's AWS emulator (a local server; nothing reaches AWS), and ECS gets exactly the image,
cpu and memory that `render --jobs` showed offline.

No third-party package is patched: boto3 is pointed at the emulator by the standard
`AWS_ENDPOINT_URL` variable. One input differs from the example: moto's RunTask (5.x)
fails with a 500 for a Fargate task definition whose containers have no `memory` of their
own (it adds up container memory; real ECS takes the task-level value), so the copy's base
job template also sets the container's memory to `{{ memory }}`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.local import terminate
from tests.integration.conftest import Servers, api, read_deployment

pytestmark = pytest.mark.xdist_group("servers")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server on a free local port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        yield url
    finally:
        terminate(process.pid, grace=5)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/moto-api/", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("moto server did not start")


def example_on(tmp_path: Path, api_url: str) -> Path:
    """The quickstart, its dev environment on the test server (see the module docstring
    for the one change to its template)."""
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".flowfleet"))
    config = root / "flowfleet.yaml"
    text = config.read_text()
    assert "  dev:\n    local: true" in text
    config.write_text(text.replace("  dev:\n    local: true", f"  dev:\n    api_url: '{api_url}'"))
    template_file = root / "infrastructure" / "ecs.json"
    template = json.loads(template_file.read_text())
    template["job_configuration"]["task_definition"]["containerDefinitions"][0]["memory"] = (
        "{{ memory }}"
    )
    template_file.write_text(json.dumps(template))
    return config


def start_worker_once(api_url: str, aws: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`prefect worker start --type ecs --run-once`: submits what is due, then exits."""
    env = {
        **os.environ,
        **AWS,
        "AWS_ENDPOINT_URL": aws,
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
    }
    command = ["worker", "start", "--pool", "ecs-dev", "--type", "ecs", "--run-once"]
    return subprocess.run(
        [sys.executable, "-m", "prefect", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def offline_summary(config: Path, deployment: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """What `render --jobs` shows for the deployment, offline."""
    capsys.readouterr()
    assert dispatch(["render", "-f", str(config), "--env", "dev", "--jobs", "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    return next(j for j in jobs if j["deployment"] == deployment)["ecs"]["summary"]


def test_ecs_worker_reaches_run_task_with_the_declared_job(
    servers: Servers,
    moto: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("IMAGE", raising=False)
    url = servers.url("dev")
    config = example_on(tmp_path, url)
    project = f"moto-{uuid.uuid4().hex[:8]}"
    assert (
        dispatch(["apply", "-f", str(config), "--env", "dev", "--project", project, "--yes"]) == 0
    )
    ecs = boto3.client("ecs", endpoint_url=moto, region_name="eu-west-1", **_keys())
    ecs.create_cluster(clusterName="quickstart-dev")
    deployment = read_deployment(url, "report", "report-eu")
    assert deployment is not None
    flow_run = api(url, "POST", f"/deployments/{deployment['id']}/create_flow_run", {})

    worker = start_worker_once(url, moto, tmp_path / "worker-home")

    assert "Created ECS task" in worker.stdout + worker.stderr, worker.stdout + worker.stderr
    task = _task_of(ecs, flow_run["id"])
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    [container] = definition["taskDefinition"]["containerDefinitions"]
    expected = offline_summary(config, "report/report-eu", capsys)
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/quickstart:dev"
    assert (expected["image"], expected["cpu"], expected["memory"]) == (image, "256", "512")
    assert container["image"] == expected["image"]
    recorded = definition["taskDefinition"]
    assert (recorded["cpu"], recorded["memory"]) == (expected["cpu"], expected["memory"])
    overrides = task["overrides"]
    assert (overrides["cpu"], overrides["memory"]) == (expected["cpu"], expected["memory"])
    assert overrides["taskRoleArn"] == expected["task_role_arn"]
    assert recorded["executionRoleArn"] == expected["execution_role_arn"]
    assert task["launchType"] == expected["launch_type"]
    assert task["clusterArn"].endswith(f":cluster/{expected['cluster']}")
    [override] = overrides["containerOverrides"]
    environment = {e["name"]: e["value"] for e in override["environment"]}
    assert (environment["STAGE"], environment["REPORT_REGION"]) == ("dev", "eu")


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS["AWS_SECRET_ACCESS_KEY"],
    }


def _task_of(ecs: Any, flow_run_id: str) -> dict[str, Any]:
    """The ECS task that the worker started for the flow run (tagged with its id)."""
    arns = ecs.list_tasks(cluster="quickstart-dev")["taskArns"]
    tasks = ecs.describe_tasks(cluster="quickstart-dev", tasks=arns, include=["TAGS"])["tasks"]
    for task in tasks:
        tags = {t["key"]: t["value"] for t in task.get("tags", [])}
        if tags.get("prefect.io/flow-run-id") == flow_run_id:
            return dict(task)
    raise AssertionError(f"no ECS task for flow run {flow_run_id}: {arns}")
