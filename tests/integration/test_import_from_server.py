"""`flowfleet import dev.yaml prod.yaml --from-server ...` against real Prefect 3 servers.

Prefect 3 without prefect-aws 0.4 has no `ecs-task` block type: the set-up registers one
(POST /block_types/ and /block_schemas/, with the fields of prefect-aws 0.4's ECSTask) and
saves ECSTask block documents the way Prefect 2 stored them, an `aws_credentials` field
included as a reference (`$ref`) to an aws-credentials block (the test servers have that
type: prefect-aws is installed). The import turns each into an `ecs` pool whose job
variables carry the block's values; a missing block, one of another type and an
unreachable server are errors that write nothing. The Prefect 2 server path is proved in
tests/integration/test_prefect2.py (`make test-compat`).
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Servers, api

pytestmark = pytest.mark.xdist_group("servers")
ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:8]  # the servers live for the session: names no other test uses
SECRET = f"s3cr3t-{RUN}"
NETWORK = [
    {"op": "add", "path": "/networkConfiguration/awsvpcConfiguration/subnets", "value": ["s-1"]},
    {
        "op": "add",
        "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp",
        "value": "DISABLED",
    },
]
TAGS = [{"op": "add", "path": "/tags", "value": [{"key": "team", "value": "data"}]}]
ECS_TASK_FIELDS = {  # prefect-aws 0.4's ECSTask schema, the properties it stores
    "title": "ECSTask",
    "type": "object",
    "block_type_slug": "ecs-task",
    "properties": {
        name: {"title": name}
        for name in (
            "type", "env", "labels", "name", "command", "aws_credentials", "task_definition_arn",
            "task_definition", "family", "image", "auto_deregister_task_definition", "cpu",
            "memory", "execution_role_arn", "configure_cloudwatch_logs",
            "cloudwatch_logs_options", "stream_output", "launch_type", "vpc_id", "cluster",
            "task_role_arn", "task_customizations", "task_start_timeout_seconds",
            "task_watch_poll_interval", "container_name",
        )
    },
}  # fmt: skip


def dev_block(credentials: str) -> dict[str, Any]:
    """Every field as Prefect 2 stores an ECSTask (defaults included)."""
    return {
        "type": "ecs-task",
        "env": {"STAGE": "dev"},
        "labels": {},
        "name": None,
        "command": ["python", "-m", "prefect.engine"],
        "aws_credentials": {"$ref": {"block_document_id": credentials}},
        "task_definition_arn": None,
        "task_definition": None,
        "family": "ingest",
        "image": "example.org/ingest:2.0",
        "auto_deregister_task_definition": False,
        "cpu": 512,
        "memory": 1024,
        "execution_role_arn": "arn:aws:iam::1:role/exec",
        "configure_cloudwatch_logs": True,
        "cloudwatch_logs_options": {"awslogs-group": "/ingest"},
        "stream_output": True,
        "launch_type": "FARGATE_SPOT",
        "vpc_id": "vpc-1",
        "cluster": "ingest-dev",
        "task_role_arn": "arn:aws:iam::1:role/task",
        "task_customizations": NETWORK + TAGS,
        "task_start_timeout_seconds": 300,
        "task_watch_poll_interval": 5.0,
        "container_name": "flow",
    }


class Blocks:
    """Block documents on one test server (test set-up through the API, not flowfleet)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ecs = self._type("ecs-task", "ECS Task", ECS_TASK_FIELDS)
        self.credentials = self._type("aws-credentials", "AWS Credentials", None)

    def _type(self, slug: str, name: str, fields: dict[str, Any] | None) -> tuple[str, str]:
        try:
            type_id = api(self.url, "GET", f"/block_types/slug/{slug}")["id"]
        except httpx.HTTPStatusError:
            type_id = api(self.url, "POST", "/block_types/", {"name": name, "slug": slug})["id"]
        body = {"block_schemas": {"block_type_id": {"any_": [type_id]}}, "limit": 1}
        found = api(self.url, "POST", "/block_schemas/filter", body)
        if found:
            return type_id, found[0]["id"]
        schema = {"block_type_id": type_id, "fields": fields, "version": "0.4.20"}
        schema["capabilities"] = ["run-infrastructure"]
        return type_id, api(self.url, "POST", "/block_schemas/", schema)["id"]

    def save(self, kind: tuple[str, str], name: str | None, data: dict[str, Any]) -> str:
        body = {"block_type_id": kind[0], "block_schema_id": kind[1], "data": data}
        body.update({"name": name} if name else {"is_anonymous": True})
        return str(api(self.url, "POST", "/block_documents/", body)["id"])


@pytest.fixture(scope="module")
def blocks(servers: Servers) -> dict[str, Blocks]:
    """On dev: ff-dev (credentials by name), ff-wrong (an aws-credentials block), ff-shared
    (cpu 256); on prod: ff-prod (inline credentials with a secret), ff-shared (cpu 4096)."""
    dev, prod = Blocks(servers.url("dev")), Blocks(servers.url("prod"))
    saved = dev.save(dev.credentials, f"creds-{RUN}", {"region_name": "eu-west-1"})
    dev.save(dev.ecs, f"ff-dev-{RUN}", dev_block(saved))
    dev.save(dev.credentials, f"ff-wrong-{RUN}", {"region_name": "eu-west-1"})
    inline = prod.save(
        prod.credentials, None, {"aws_access_key_id": "AKIA1", "aws_secret_access_key": SECRET}
    )
    prod.save(
        prod.ecs,
        f"ff-prod-{RUN}",
        {
            "image": "example.org/ingest:2.0",
            "aws_credentials": {"$ref": {"block_document_id": inline}},
        },
    )
    for server, cpu in ((dev, 256), (prod, 4096)):
        server.save(server.ecs, f"ff-shared-{RUN}", {"image": "example.org/x:1", "cpu": cpu})
    return {"dev": dev, "prod": prod}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "legacy"
    shutil.copytree(ROOT / "examples" / "legacy", folder)
    (folder / ".git").mkdir()
    monkeypatch.chdir(folder)
    name_blocks(folder, dev=f"ff-dev-{RUN}", prod=f"ff-prod-{RUN}")
    return folder


def name_blocks(folder: Path, **names: str) -> None:
    for env, name in names.items():
        path = folder / f"{env}.yaml"
        path.write_text(re.sub(r"ecs-task/\S+", f"ecs-task/{name}", path.read_text()))


def from_servers(servers: Servers) -> list[str]:
    return [f"--from-server=dev={servers.url('dev')}", f"--from-server=prod={servers.url('prod')}"]


def test_each_environment_s_block_becomes_its_pool(
    files: Path, blocks: dict[str, Blocks], servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "dev.yaml", "prod.yaml", *from_servers(servers), "-o", "flowfleet.yaml"]
    assert dispatch(args) == 0
    captured = capsys.readouterr()
    dev = f"environment 'dev' ({servers.url('dev')}): warning: ECSTask 'ff-dev-{RUN}': field"
    prod = f"environment 'prod' ({servers.url('prod')}): warning: ECSTask 'ff-prod-{RUN}':"
    assert captured.err.splitlines() == [
        f"{dev} 'stream_output' has no counterpart in an ecs work pool (the Prefect 3 ECS "
        "worker does not stream a task's output (its logs are in CloudWatch with "
        "configure_cloudwatch_logs)); it is left out",
        f"{dev} 'task_start_timeout_seconds' has no counterpart in an ecs work pool (the "
        "Prefect 3 ECS worker does not wait for the task to start); it is left out",
        f"dev.yaml:10:23: warning: work pool 'default-pool' is replaced by 'ecs-ff-dev-{RUN}', "
        f"the pool made from ecs-task/ff-dev-{RUN} (its deployments ran on that block)",
        f"{prod} aws_credentials are given inline; save them as an aws-credentials block and "
        "set the pool's job variable aws_credentials to "
        "'{{ prefect.blocks.aws-credentials.NAME }}'; they are left out",
        f"prod.yaml:10:23: warning: work pool 'default-pool' is replaced by "
        f"'ecs-ff-prod-{RUN}', the pool made from ecs-task/ff-prod-{RUN} (its deployments ran "
        "on that block)",
    ]
    written = (files / "flowfleet.yaml").read_text()
    assert SECRET not in written + captured.out + captured.err
    assert "AKIA1" not in written + captured.out + captured.err
    config = yaml.safe_load(written)
    pool = config["work_pools"][f"ecs-ff-dev-{RUN}"]
    assert pool["job_variables"] == {
        "env": {"STAGE": "dev"},
        "command": "python -m prefect.engine",
        "aws_credentials": f"{{{{ prefect.blocks.aws-credentials.creds-{RUN} }}}}",
        "family": "ingest",
        "image": "example.org/ingest:2.0",
        "auto_deregister_task_definition": False,
        "cpu": 512,
        "memory": 1024,
        "execution_role_arn": "arn:aws:iam::1:role/exec",
        "configure_cloudwatch_logs": True,
        "cloudwatch_logs_options": {"awslogs-group": "/ingest"},
        "launch_type": "FARGATE_SPOT",
        "vpc_id": "vpc-1",
        "cluster": "ingest-dev",
        "task_role_arn": "arn:aws:iam::1:role/task",
        "container_name": "flow",
        "network_configuration": {"subnets": ["s-1"], "assignPublicIp": "DISABLED"},
    }
    request = pool["base_job_template"]["job_configuration"]["task_run_request"]
    assert request["tags"] == [{"key": "team", "value": "data"}]
    assert pool["environments"] == ["dev"]
    assert config["work_pools"][f"ecs-ff-prod-{RUN}"] == {
        "type": "ecs",
        "job_variables": {"image": "example.org/ingest:2.0"},
        "environments": ["prod"],
    }
    overrides = {env: config["environments"][env]["overrides"] for env in ("dev", "prod")}
    assert overrides["dev"]["work_pool"] == {"name": f"ecs-ff-dev-{RUN}"}
    assert overrides["prod"]["work_pool"] == {"name": f"ecs-ff-prod-{RUN}"}


def test_one_name_two_blocks_gives_a_pool_per_environment(
    files: Path, blocks: dict[str, Blocks], servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    name_blocks(files, dev=f"ff-shared-{RUN}", prod=f"ff-shared-{RUN}")
    assert (
        dispatch(["import", "dev.yaml", "prod.yaml", *from_servers(servers), "-o", "a.yaml"]) == 0
    )
    assert capsys.readouterr().err.splitlines()[0] == (
        f"dev.yaml:2:1: warning: 'ib-block: ecs-task/ff-shared-{RUN}' does not name the same "
        "block in the environments dev, prod (their servers hold different ones); each "
        f"environment gets its own work pool: ecs-ff-shared-{RUN}-dev, ecs-ff-shared-{RUN}-prod"
    )
    pools = yaml.safe_load((files / "a.yaml").read_text())["work_pools"]
    assert {name: p["job_variables"]["cpu"] for name, p in pools.items()} == {
        f"ecs-ff-shared-{RUN}-dev": 256,
        f"ecs-ff-shared-{RUN}-prod": 4096,
    }
    # One URL for every environment: both read from dev's server, one pool.
    args = ["import", "dev.yaml", "prod.yaml", "--from-server", servers.url("dev"), "-o", "b.yaml"]
    assert dispatch(args) == 0
    pools = yaml.safe_load((files / "b.yaml").read_text())["work_pools"]
    assert list(pools) == [f"ecs-ff-shared-{RUN}"]
    assert pools[f"ecs-ff-shared-{RUN}"]["environments"] == ["dev", "prod"]


def test_a_missing_block_is_an_error_and_nothing_is_written(
    files: Path, blocks: dict[str, Blocks], servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    name_blocks(files, prod=f"ff-missing-{RUN}")
    args = ["import", "dev.yaml", "prod.yaml", *from_servers(servers), "-o", "flowfleet.yaml"]
    assert dispatch(args) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: environment 'prod' ({servers.url('prod')}): the server has no ecs-task block "
        f"named 'ff-missing-{RUN}' (prod.yaml:2:1: ib-block: ecs-task/ff-missing-{RUN}); check "
        "that it is this environment's server (--from-server prod=URL) and that the block is "
        "saved there, or leave out --from-server to read the block from the Python file that "
        "saves it\n"
    )
    assert captured.out == ""
    assert not (files / "flowfleet.yaml").exists()


def test_a_block_of_another_type_is_an_error(
    files: Path, blocks: dict[str, Blocks], servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    name_blocks(files, dev=f"ff-wrong-{RUN}")
    assert dispatch(["import", "dev.yaml", "prod.yaml", *from_servers(servers)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: environment 'dev' ({servers.url('dev')}): the server has no ecs-task block "
        f"named 'ff-wrong-{RUN}' (dev.yaml:2:1: ib-block: ecs-task/ff-wrong-{RUN}), only a "
        "block of type 'aws-credentials' by that name; check that it is this environment's "
        "server (--from-server dev=URL) and that the block is saved there, or leave out "
        "--from-server to read the block from the Python file that saves it\n"
    )
    assert captured.out == ""  # the config goes to stdout: none of it


def test_an_unreachable_server_is_an_error(
    files: Path, servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = "http://127.0.0.1:9/api"  # the discard port: nothing listens
    args = ["import", "dev.yaml", "prod.yaml", "--from-server", closed, "-o", "flowfleet.yaml"]
    assert dispatch(args) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"error: environment 'dev': cannot reach {re.escape(closed)} \(ConnectError: [^\n]*\); "
        rf"the block ecs-task/ff-dev-{RUN} \(dev.yaml:2:1: ib-block: ecs-task/ff-dev-{RUN}\) "
        r"was not read, nothing was written\n",
        err,
    ), err
    assert not (files / "flowfleet.yaml").exists()
