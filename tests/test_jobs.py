"""`render --jobs`: each deployment's job configuration as its worker builds it, offline.

The ECS job of every example deployment in dev and prod is checked field by field from the
command's JSON output, with no AWS and no Prefect server reachable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart"
ACCOUNT = "123456789012"
ECR = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/quickstart"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/quickstart-ecs-task-execution"
DEFAULT_VPC = {
    "awsvpcConfiguration": {
        "subnets": "{every subnet of the default VPC, looked up at run time}",
        "assignPublicIp": "ENABLED",
        "securityGroups": [],
    }
}
PROD_NETWORK = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        "securityGroups": ["sg-0a1b2c3d4e5f60003"],
        "assignPublicIp": "DISABLED",
    }
}
# Nothing answers here: a command that tried to reach Prefect or AWS would fail.
NOWHERE = "http://127.0.0.1:9"


def render_jobs(env: str, **environ: str) -> dict[str, Any]:
    """`flowfleet render --env ENV --jobs --json` in the example, as a user runs it."""
    variables = {k: v for k, v in os.environ.items() if k not in ("IMAGE", "QUICKSTART_DIR")}
    variables |= {"PREFECT_API_URL": f"{NOWHERE}/api", "AWS_ENDPOINT_URL": NOWHERE, **environ}
    result = subprocess.run(
        [sys.executable, "-m", "flowfleet.cli", "render", "--env", env, "--jobs", "--json"],
        cwd=QUICKSTART,
        env=variables,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def jobs() -> dict[str, dict[str, Any]]:
    """Every environment's jobs by deployment."""
    return {
        env: {job["deployment"]: job for job in render_jobs(env)["jobs"]} for env in ("dev", "prod")
    }


def expected_ecs(env: str, cpu: str, memory: str) -> dict[str, Any]:
    """What the example declares for its ECS deployments in `env`."""
    return {
        "image": f"{ECR}:{'dev' if env == 'dev' else 'latest'}",
        "cpu": cpu,
        "memory": memory,
        "cluster": f"quickstart-{env}",
        "launch_type": "FARGATE",
        "task_role_arn": f"arn:aws:iam::{ACCOUNT}:role/quickstart-flows-{env}",
        "execution_role_arn": EXECUTION_ROLE,
        "network_configuration": DEFAULT_VPC if env == "dev" else PROD_NETWORK,
    }


def declared_environment(env: str, region: str | None) -> dict[str, str]:
    """The job's environment variables set by the config (not by Prefect)."""
    result = {"STAGE": env} | ({"LOG_LEVEL": "WARNING"} if env == "prod" else {})
    return result | ({"REPORT_REGION": region} if region else {})


# environment, deployment, cpu, memory, region (the matrix key)
ECS_CASES = [
    ("dev", "report/report-eu", "256", "512", "eu"),
    ("dev", "report/report-us", "256", "512", "us"),
    ("dev", "report/report-apac", "256", "512", "apac"),
    ("dev", "etl/orders", "256", "512", None),
    ("prod", "report/report-eu", "512", "1024", "eu"),
    ("prod", "report/report-us", "512", "1024", "us"),
    ("prod", "report/report-apac", "512", "1024", "apac"),
    ("prod", "etl/orders", "1024", "4096", None),  # the deployment's own cpu and memory
]
CASE_NAMES = ("env", "name", "cpu", "memory", "region")


@pytest.mark.parametrize(CASE_NAMES, ECS_CASES)
def test_ecs_summary(
    jobs: dict[str, dict[str, Any]], env: str, name: str, cpu: str, memory: str, region: str | None
) -> None:
    job = jobs[env][name]
    assert (job["work_pool"], job["work_pool_type"]) == (f"ecs-{env}", "ecs")
    summary = job["ecs"]["summary"]
    for field, value in expected_ecs(env, cpu, memory).items():
        assert summary[field] == value, field
    environment = summary["environment"]
    declared = {k: v for k, v in environment.items() if not k.startswith("PREFECT")}
    assert declared == declared_environment(env, region)
    flow, deployment = name.split("/")
    assert environment["PREFECT__FLOW_RUN_ID"] == "{flow_run.id}"
    # Prefect sets the flow's and deployment's names from 3.6 on (3.4 does not)
    names = (environment.get("PREFECT__FLOW_NAME"), environment.get("PREFECT__DEPLOYMENT_NAME"))
    assert names == ((flow, deployment) if _installed_prefect() >= (3, 6) else (None, None))
    assert environment["PREFECT_API_URL"] == "{worker's PREFECT_API_URL}"


@pytest.mark.parametrize(CASE_NAMES, ECS_CASES)
def test_ecs_task_definition_and_run_task_request(
    jobs: dict[str, dict[str, Any]], env: str, name: str, cpu: str, memory: str, region: str | None
) -> None:
    """The summary is read from these, as prefect-aws builds them."""
    expected = expected_ecs(env, cpu, memory)
    definition = jobs[env][name]["ecs"]["task_definition"]
    [container] = definition["containerDefinitions"]
    assert (container["name"], container["image"]) == ("prefect", expected["image"])
    assert container["logConfiguration"]["options"] == {
        "awslogs-create-group": "true",
        "awslogs-group": "/ecs/quickstart",
        "awslogs-region": "eu-west-1",
        "awslogs-stream-prefix": f"prefect-logs_ecs-{env}_{{deployment.id}}",
    }
    assert (definition["cpu"], definition["memory"]) == (cpu, memory)
    assert definition["executionRoleArn"] == EXECUTION_ROLE
    assert definition["family"] == f"prefect_ecs-{env}_{{deployment.id}}"
    assert definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]

    request = jobs[env][name]["ecs"]["run_task_request"]
    assert request["taskDefinition"] == "{task_definition.arn}"
    assert (request["cluster"], request["launchType"]) == (expected["cluster"], "FARGATE")
    assert request["networkConfiguration"] == expected["network_configuration"]
    overrides = request["overrides"]
    assert (overrides["cpu"], overrides["memory"]) == (cpu, memory)
    assert overrides["taskRoleArn"] == expected["task_role_arn"]
    [override] = overrides["containerOverrides"]
    assert override["command"] == ["prefect", "flow-run", "execute"]
    environment = {e["name"]: e["value"] for e in override["environment"]}
    declared = {k: v for k, v in environment.items() if not k.startswith("PREFECT")}
    assert declared == declared_environment(env, region)
    tags = {t["key"]: t["value"] for t in request["tags"]}
    assert tags["prefect.io/deployment-name"] == name.split("/")[1]
    assert tags["prefect.io/work-pool-name"] == f"ecs-{env}"


def test_process_jobs_show_no_machine_environment(jobs: dict[str, dict[str, Any]]) -> None:
    """The process worker passes its whole environment on: only what the config declares
    and what Prefect adds per run is shown, never this machine's variables."""
    job = jobs["dev"]["hello/smoke-test"]
    assert (job["work_pool"], job["work_pool_type"]) == ("local-dev", "process")
    configuration = job["job_configuration"]
    assert configuration["command"] == "{worker's python} -m prefect.engine"
    declared = {k: v for k, v in configuration["env"].items() if not k.startswith("PREFECT")}
    assert declared == {"STAGE": "dev"}
    assert "PATH" not in configuration["env"] and "HOME" not in configuration["env"]
    assert "ecs" not in job


def test_every_example_deployment_has_a_job(jobs: dict[str, dict[str, Any]]) -> None:
    on_ecs = {"report/report-eu", "report/report-us", "report/report-apac", "etl/orders"}
    hello = {"hello/daily", "hello/hourly", "hello/weekdays"}
    assert set(jobs["dev"]) == on_ecs | hello | {"hello/smoke-test"}
    assert set(jobs["prod"]) == on_ecs | hello | {"cleanup/nightly"}


def test_image_comes_from_the_image_variable() -> None:
    jobs = render_jobs("prod", IMAGE="registry.example/quickstart:abc123")["jobs"]
    images = {j["deployment"]: j["ecs"]["summary"]["image"] for j in jobs if "ecs" in j}
    assert set(images.values()) == {"registry.example/quickstart:abc123"}
    assert len(images) == 4


FLOW = "from prefect import flow\n\n\n@flow\ndef hello(name: str = 'x') -> None:\n    print(name)\n"
TEMPLATE = """
job_configuration:
  aws_credentials: "{{ aws_credentials }}"
  cluster: "{{ prefect.variables.ecs_cluster }}"
  task_definition:
    containerDefinitions: [{image: "{{ image }}", name: prefect}]
    executionRoleArn: arn:aws:iam::123456789012:role/exec
  task_run_request:
    cluster: "{{ prefect.variables.ecs_cluster }}"
    launchType: FARGATE
    overrides: {taskRoleArn: "{{ prefect.variables.task_role }}"}
  configure_cloudwatch_logs: true
variables:
  properties:
    image: {type: string}
    aws_credentials: {type: object, default: "{{ prefect.blocks.aws-credentials.ecs }}"}
"""


def render_project(
    tmp_path: Path, config: str, *args: str, template: str = TEMPLATE
) -> tuple[int, str, str]:
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/hello.py": FLOW, "ecs.yaml": template})
    out, err = tmp_path / "out", tmp_path / "err"
    code = subprocess.run(
        [sys.executable, "-m", "flowfleet.cli", "render", "--env", "dev", "--jobs", *args],
        cwd=tmp_path,
        env={**os.environ, "ECS_SECRET": "s3cr3t-value", "PREFECT_API_URL": f"{NOWHERE}/api"},
        stdout=out.open("w"),
        stderr=err.open("w"),
        check=False,
    ).returncode
    return code, out.read_text(), err.read_text()


CONFIG = """
project: shop
environments: {dev: {local: true}}
work_pools:
  ecs: {type: ecs, base_job_template: ecs.yaml}
blocks:
  ecs:
    type: aws-credentials
    fields:
      region_name: us-east-2
      aws_access_key_id: AKIA0000
      aws_secret_access_key: "${ECS_SECRET}"
variables:
  ecs_cluster: {value: shop-cluster}
deployments:
  - name: on-ecs
    entrypoint: flows/hello.py:hello
    work_pool: {name: ecs, job_variables: {image: "shop:1"}}
  - name: elsewhere
    entrypoint: flows/hello.py:hello
    work_pool: {name: somebody-elses-pool}
"""


def test_blocks_and_variables_come_from_the_config(tmp_path: Path) -> None:
    code, out, err = render_project(tmp_path, CONFIG, "--json")
    assert code == 0, err
    assert "s3cr3t" not in out
    on_ecs, elsewhere = json.loads(out)["jobs"]
    credentials = on_ecs["job_configuration"]["aws_credentials"]
    assert credentials["region_name"] == "us-east-2"
    assert credentials["aws_secret_access_key"] == "**********"  # masked by the block itself
    definition, request = on_ecs["ecs"]["task_definition"], on_ecs["ecs"]["run_task_request"]
    [container] = definition["containerDefinitions"]
    assert container["logConfiguration"]["options"]["awslogs-region"] == "us-east-2"
    assert request["cluster"] == "shop-cluster"  # a declared variable
    assert (
        request["overrides"]["taskRoleArn"] == "{{ prefect.variables.task_role }}"
    )  # not declared
    assert elsewhere == {
        "deployment": "hello/elsewhere",
        "work_pool": "somebody-elses-pool",
        "job_configuration": None,
        "note": "work pool 'somebody-elses-pool' is not declared in the config: its base job "
        "template, and so the job configuration, is unknown offline",
    }


def test_a_block_not_in_the_config_is_unknown_offline(tmp_path: Path) -> None:
    code, out, err = render_project(
        tmp_path, CONFIG.replace("  ecs:\n    type: aws", "  other:\n    type: aws")
    )
    assert (code, out) == (1, "")
    assert err == (
        "flowfleet.yaml:18:23: the job configuration of deployment 'hello/on-ecs' on work pool "
        "'ecs' cannot be built: block 'aws-credentials/ecs' is not declared in the config for "
        "dev: its fields are unknown offline; declare it under `blocks:` [dev]\n"
        "1 problem found; nothing was changed.\n"
    )


def test_a_job_the_worker_would_refuse_is_an_error(tmp_path: Path) -> None:
    """prefect-aws refuses a network configuration without a VPC: so does render --jobs."""
    network = "configure_cloudwatch_logs: true\n  network_configuration: {subnets: [subnet-1]}"
    template = TEMPLATE.replace("configure_cloudwatch_logs: true", network)
    code, out, err = render_project(tmp_path, CONFIG, template=template)
    assert (code, out) == (1, "")
    assert err == (
        "flowfleet.yaml:18:23: the job configuration of deployment 'hello/on-ecs' on work pool "
        "'ecs' cannot be built: You must provide a `vpc_id` to enable custom "
        "`network_configuration`. [dev]\n"
        "1 problem found; nothing was changed.\n"
    )


def test_render_jobs_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the in-process entry point (YAML output)."""
    monkeypatch.delenv("IMAGE", raising=False)
    assert (
        dispatch(["render", "-f", str(QUICKSTART / "flowfleet.yaml"), "--env", "prod", "--jobs"])
        == 0
    )
    out = capsys.readouterr().out
    assert "image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/quickstart:latest" in out
    assert "taskDefinition: '{task_definition.arn}'" in out


def test_a_worker_type_without_its_package_shows_the_common_fields(tmp_path: Path) -> None:
    config = """
project: shop
environments: {dev: {local: true}}
work_pools:
  k8s:
    type: kubernetes-not-installed
    base_job_template:
      job_configuration: {env: "{{ env }}", namespace: "{{ namespace }}"}
      variables: {properties: {env: {type: object}, namespace: {type: string}}}
deployments:
  - name: on-k8s
    entrypoint: flows/hello.py:hello
    work_pool: {name: k8s, job_variables: {env: {A: "1"}, namespace: shop}}
  - name: served
    entrypoint: flows/hello.py:hello
"""
    code, out, err = render_project(tmp_path, config, "--json")
    assert code == 0, err
    on_k8s, served = json.loads(out)["jobs"]
    assert on_k8s["job_configuration"]["env"]["A"] == "1"
    assert on_k8s["note"] == (
        "no installed package defines the 'kubernetes-not-installed' worker: only the job "
        "configuration fields common to every worker are shown"
    )
    assert served == {
        "deployment": "hello/served",
        "work_pool": None,
        "job_configuration": None,
        "note": "no work pool: the deployment runs where it is served",
    }


def _installed_prefect() -> tuple[int, int]:
    import prefect

    major, minor = prefect.__version__.split(".")[:2]
    return int(major), int(minor)
