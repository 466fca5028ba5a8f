"""`flowfleet import dev.yaml prod.yaml` with the Python file that saves the ECSTask blocks
the files' `ib-block`s name: the blocks become `ecs` work pools (read without running the
file), the deployments use them, and every field without a counterpart is a warning at its
line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.interop.legacy.block_file import Credentials, read_block_file
from flowfleet.interop.legacy.ecs_pool import ecs_pool

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = Path(__file__).parent / "legacy_blocks" / "ecs_task.py"
IMAGE = "${IMAGE:-123456789012.dkr.ecr.us-east-1.amazonaws.com/ingest:1.4}"
NETWORK = {
    "subnets": ["subnet-0a1b2c3d"],
    "securityGroups": ["sg-0a1b2c3d"],
    "assignPublicIp": "DISABLED",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "legacy"
    shutil.copytree(ROOT / "examples" / "legacy", folder)
    (folder / "infrastructure").mkdir()
    shutil.copy(BLOCKS, folder / "infrastructure" / "ecs_task.py")
    (folder / ".git").mkdir()  # the repository's root: where block files are looked for
    monkeypatch.chdir(folder)
    return folder


def test_block_file_read_without_running_it() -> None:
    scanned = read_block_file(BLOCKS, "ecs_task.py")
    assert [b.name for b in scanned.blocks] == ["dev", "prod", "debug"]
    dev = {k: v for k, (v, _) in scanned.blocks[0].fields.items()}
    assert dev["image"] == IMAGE
    assert dev["aws_credentials"] == Credentials(None)
    assert (
        dev["task_customizations"][0]["path"] == "/networkConfiguration/awsvpcConfiguration/subnets"
    )
    (warning,) = scanned.blocks[2].warnings
    assert str(warning[0]) == "ecs_task.py:63:15"
    assert warning[1].startswith("ECSTask field 'image' cannot be read without running the file")


def test_import_makes_a_pool_per_block(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "infrastructure/ecs_task.py:40:19: warning: ECSTask 'dev': field 'stream_output' has no "
        "counterpart in an ecs work pool (the Prefect 3 ECS worker does not stream a task's "
        "output (its logs are in CloudWatch with configure_cloudwatch_logs)); it is left out",
        "dev.yaml:10:23: warning: work pool 'default-pool' is replaced by 'ecs-dev', the pool "
        "made from ecs-task/dev (its deployments ran on that block)",
        "infrastructure/ecs_task.py:57:32: warning: ECSTask 'prod': field "
        "'task_start_timeout_seconds' has no counterpart in an ecs work pool (the Prefect 3 "
        "ECS worker does not wait for the task to start); it is left out",
        "prod.yaml:10:23: warning: work pool 'default-pool' is replaced by 'ecs-prod', the pool "
        "made from ecs-task/prod (its deployments ran on that block)",
    ]
    config = yaml.safe_load((project / "flowfleet.yaml").read_text())
    assert config["work_pools"]["ecs-prod"] == {
        "type": "ecs",
        "job_variables": {
            "image": IMAGE,
            "cpu": 2048,
            "memory": 8192,
            "cluster": "ingest-prod",
            "vpc_id": "vpc-0a1b2c3d",
            "execution_role_arn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "task_role_arn": "arn:aws:iam::123456789012:role/ingest-prod",
            "env": {"STAGE": "prod"},
            "launch_type": "FARGATE_SPOT",
            "family": "ingest",
            "command": "python -m prefect.engine",
            "configure_cloudwatch_logs": True,
            "network_configuration": NETWORK,
        },
        "environments": ["prod"],
    }
    assert config["work_pools"]["ecs-dev"]["environments"] == ["dev"]
    assert config["environments"]["dev"]["overrides"]["work_pool"] == {"name": "ecs-dev"}
    assert config["environments"]["prod"]["overrides"]["work_pool"] == {"name": "ecs-prod"}


def test_render_jobs_of_the_new_pools(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    capsys.readouterr()
    assert dispatch(["render", "--env", "prod", "--jobs", "--json"]) == 0
    job = yaml.safe_load(capsys.readouterr().out)["jobs"][0]
    summary = job["ecs"]["summary"]
    assert summary["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/ingest:1.4"
    assert (summary["cpu"], summary["memory"], summary["cluster"]) == (
        "2048",
        "8192",
        "ingest-prod",
    )
    assert summary["network_configuration"] == {"awsvpcConfiguration": NETWORK}
    assert summary["environment"]["STAGE"] == "prod"
    definition = job["ecs"]["task_definition"]
    assert definition["family"] == "ingest"
    (container,) = definition["containerDefinitions"]
    assert container["logConfiguration"]["logDriver"] == "awslogs"


def test_missing_block_and_other_block_types(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "prod.yaml").read_text()
    (project / "prod.yaml").write_text(text.replace("ecs-task/prod", "ecs-task/missing"))
    (project / "dev.yaml").write_text(
        (project / "dev.yaml").read_text().replace("ecs-task/dev", "kubernetes-job/dev")
    )
    assert dispatch(["import", "dev.yaml", "prod.yaml"]) == 0
    err = capsys.readouterr().err
    assert (
        "dev.yaml:2:1: warning: 'ib-block: kubernetes-job/dev' is not an ecs-task block; only "
        "those become work pools: declare the pool under work_pools: by hand"
    ) in err
    assert (
        "prod.yaml:2:1: warning: 'ib-block: ecs-task/missing': no ECSTask saved as 'missing' "
        "in the Python files under the current folder; the block is not converted: give the "
        "folder of the Python file that saves it with --blocks, or declare its work pool under "
        "work_pools: by hand"
    ) in err


def test_customizations_beyond_the_network_make_a_custom_template() -> None:
    template = {
        "job_configuration": {"task_run_request": {"overrides": {}}},
        "variables": {"properties": {"vpc_id": {}, "network_configuration": {}}},
    }
    patches = [{"op": "add", "path": "/overrides/ephemeralStorage", "value": {"sizeInGiB": 40}}]
    pool = ecs_pool("x", {"task_customizations": (patches, None)}, template)
    request = pool.spec["base_job_template"]["job_configuration"]["task_run_request"]
    assert request == {"overrides": {"ephemeralStorage": {"sizeInGiB": 40}}}
    assert pool.warnings == []
    broken = [{"op": "replace", "path": "/nothing/here", "value": 1}]
    pool = ecs_pool("x", {"task_customizations": (broken, None)}, template)
    assert "base_job_template" not in pool.spec
    assert "task_customizations cannot be applied" in pool.warnings[0][1]


def test_prefect_2_page_shows_what_import_writes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_docs import blocks

    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    captured = capsys.readouterr()
    (output,) = blocks("migrating-from-prefect-2.md", "text")
    assert output == captured.err + captured.out
    (pools,) = blocks("migrating-from-prefect-2.md", "yaml")
    written = (project / "flowfleet.yaml").read_text()
    assert pools in written
    assert yaml.safe_load(pools)["work_pools"] == yaml.safe_load(written)["work_pools"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--from-server", "dev=http://a:4200/api"],
            "--from-server: no server for environment(s) prod, whose file names an ecs-task "
            "block; give each one's with --from-server ENV=URL, or one --from-server URL for all",
        ),
        (
            ["--from-server", "http://a:4200/api", "--from-server", "stage=http://b/api"],
            "--from-server stage=...: no file is environment 'stage' (the environments are "
            "dev, prod); name one of them",
        ),
        (
            ["--from-server", "dev=prefect-dev:4200"],
            "--from-server dev=prefect-dev:4200: expected URL or ENV=URL with an http(s) URL "
            "of a Prefect API, e.g. --from-server dev=http://prefect-dev:4200/api",
        ),
        (
            ["--from-server", "http://a/api", "--from-server", "http://b/api"],
            "--from-server: two values for all; give one value for all environments, or "
            "ENV=VALUE for each, e.g. --from-server dev=http://prefect-dev:4200/api "
            "--from-server prod=https://prefect-prod/api",
        ),
        (
            ["--from-server", "http://a/api", "--api-key-env", "prod=pnu-not-a-name"],
            "--api-key-env: expected NAME or ENV=NAME, the name of the variable that holds "
            "the API key (e.g. PROD_PREFECT_API_KEY), never the key",
        ),
        (
            ["--from-server", "http://a/api", "--api-key-env", "pnu_0123456789abcdef"],
            "--api-key-env: expected NAME or ENV=NAME, the name of the variable that holds "
            "the API key (e.g. PROD_PREFECT_API_KEY), never the key",
        ),
        (
            ["--api-key-env", "PREFECT_API_KEY"],
            "--api-key-env goes with --from-server; give the servers too",
        ),
        (
            ["--from-server", "http://a/api", "--blocks", "infrastructure"],
            "--blocks and --from-server exclude each other: the blocks are read from the "
            "Python files under --blocks, or from the servers; give one",
        ),
        (
            ["--from-server", "http://a/api", "--api-key-env", "prod=UNSET_KEY_VARIABLE"],
            "environment 'prod': the variable UNSET_KEY_VARIABLE named by api_key_env is not "
            "set; export it with the API key (the key itself never goes in the config)",
        ),
    ],
)
def test_from_server_options_are_checked_before_any_request(
    project: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    """Every one fails before a request (the servers named do not exist) and writes nothing."""
    assert dispatch(["import", "dev.yaml", "prod.yaml", *options, "-o", "out.yaml"]) == 1
    assert capsys.readouterr().err == f"error: {message}\n"
    assert not (project / "out.yaml").exists()


def test_from_server_is_for_per_environment_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefect_yaml = tmp_path / "prefect.yaml"
    prefect_yaml.write_text("deployments: []\n")
    assert dispatch(["import", str(prefect_yaml), "--from-server", "http://a/api"]) == 1
    assert capsys.readouterr().err == (
        "error: --blocks, --from-server and --api-key-env are for the per-environment files "
        "(with ib-block:); a prefect.yaml names no infrastructure block\n"
    )
