"""`flowfleet init [DIR] [--force]`: what it writes, what it finds, what it never overwrites,
and that the config it writes validates."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.interop.scaffold import ecs_base_job_template
from flowfleet.interop.scaffold.ecs import bundled_template
from tests.conftest import write_tree

FILES = [
    ".dockerignore",
    ".github/workflows/flowfleet-deploy.yml",
    ".github/workflows/flowfleet-plan.yml",
    "Dockerfile",
    "flowfleet.yaml",
    "infrastructure/ecs.json",
    "requirements.txt",
]
WRITE_ORDER = [
    "flowfleet.yaml",
    "Dockerfile",
    ".dockerignore",
    "requirements.txt",
    ".github/workflows/flowfleet-plan.yml",
    ".github/workflows/flowfleet-deploy.yml",
    "infrastructure/ecs.json",
]
ECS_SOURCE = f"the ECS worker's default from prefect-aws {version('prefect-aws')}"
NEXT_STEPS = (
    "\n"
    "Next: validate it (offline: it needs no variables set):\n"
    "  flowfleet validate\n"
    "render, plan and apply need IMAGE; plan and apply also the environment's server:\n"
    "  export IMAGE=... DEV_PREFECT_API_URL=... DEV_PREFECT_API_KEY=...\n"
)
SECRETS = (
    "The workflows need the repository secrets DEV_PREFECT_API_URL, DEV_PREFECT_API_KEY,\n"
    "PROD_PREFECT_API_URL, PROD_PREFECT_API_KEY, AWS_ROLE_ARN and the variables\n"
    "IMAGE_REPOSITORY and AWS_REGION.\n"
)
# What CI sets for the generated config.
ENVIRON = {
    "DEV_PREFECT_API_URL": "https://dev.example.invalid/api",
    "PROD_PREFECT_API_URL": "https://prod.example.invalid/api",
    "IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:abc123",
}


def wrote(count: int) -> str:
    plural = "s" if count != 1 else ""
    return (
        f"wrote    flowfleet.yaml ({count} deployment{plural}, one per flow found)\n"
        "wrote    Dockerfile\n"
        "wrote    .dockerignore\n"
        "wrote    requirements.txt\n"
        "wrote    .github/workflows/flowfleet-plan.yml\n"
        "wrote    .github/workflows/flowfleet-deploy.yml\n"
        f"wrote    infrastructure/ecs.json ({ECS_SOURCE})\n"
    )


def files_under(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git/" not in p.relative_to(root).as_posix() + "/"
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository as the current folder, with no ${VAR} of the config set."""
    root = tmp_path / "shop"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    for name in ENVIRON:
        monkeypatch.delenv(name, raising=False)
    return root


def test_init_into_an_empty_repository_then_validate(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dispatch(["init"]) == 0
    captured = capsys.readouterr()
    assert captured.out == wrote(0) + NEXT_STEPS + SECRETS
    assert captured.err == ""
    assert files_under(repo) == FILES
    assert (
        json.loads((repo / "infrastructure/ecs.json").read_text()) == (ecs_base_job_template()[0])
    )
    # Without the variables CI sets, validate passes; it warns that IMAGE is unset, and
    # says nothing of the servers' addresses (validate does not connect) ...
    assert dispatch(["validate"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "flowfleet.yaml:40:14: warning: environment variable 'IMAGE' is not set and has no "
        "default; validated without it, but render, plan and apply need it: set it, or write "
        "${IMAGE:-default} [dev, prod]\n"
    )
    assert captured.out == (
        "ok  flowfleet.yaml  dev: 0 deployments\nok  flowfleet.yaml  prod: 0 deployments\n"
    )
    # ... and with them, without the warning.
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    assert dispatch(["validate"]) == 0
    assert capsys.readouterr().err == ""


FLOWS = {
    "flows/hello.py": (
        'from prefect import flow\n\n\n@flow(name="hello")\n'
        'def hello(name: str = "world") -> None:\n    print(name)\n'
    ),
    "pipelines/typed.py": """\
import enum
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from prefect import flow

from mypackage import Settings

NAME = "-".join(["dy", "namic"])  # a call: known only by running the file


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def helper() -> None:
    pass


@flow
def typed(
    day: date,
    when: datetime,
    names: list[str],
    limits: dict[str, int],
    ratio: float,
    flag: bool,
    color: Color,
    mode: Literal["fast", "slow"],
    maybe: int | None,
    anything,
    ident: UUID,
    settings: Settings,
    optional: int = 3,
) -> None:
    pass


@flow(name="hello")
async def also_hello(name: str) -> None:
    pass


@flow(name=NAME)
def dynamic() -> None:
    pass
""",
    "flows/broken.py": "from prefect import flow\n\n@flow\ndef broken(:\n",
    "flows/plain.py": "def not_a_flow() -> None:\n    pass\n",
    # Never searched: virtualenvs, hidden folders, tests, node_modules.
    "venv/pyvenv.cfg": "home = /usr/bin\n",
    "venv/lib/flows.py": "from prefect import flow\n\n@flow\ndef vendored() -> None:\n    pass\n",
    ".hidden/flows.py": "from prefect import flow\n\n@flow\ndef hidden() -> None:\n    pass\n",
    "tests/helpers.py": "from prefect import flow\n\n@flow\ndef fixture() -> None:\n    pass\n",
    "pipelines/test_typed.py": "from prefect import flow\n\n@flow\ndef t() -> None:\n    pass\n",
    "node_modules/x.py": "from prefect import flow\n\n@flow\ndef js() -> None:\n    pass\n",
}
NOTE = "# required: a placeholder, set the real value"
DEPLOYMENTS = f"""\
deployments:
  - name: default
    entrypoint: flows/hello.py:hello  # flow 'hello'
  - name: default
    entrypoint: pipelines/typed.py:typed  # flow 'typed'
    parameters:
      day: "2000-01-01"  {NOTE}
      when: "2000-01-01T00:00:00Z"  {NOTE}
      names: []  {NOTE}
      limits: {{}}  {NOTE}
      ratio: 0  {NOTE}
      flag: false  {NOTE}
      color: "red"  {NOTE}
      mode: "fast"  {NOTE}
      maybe: 0  {NOTE}
      anything: null  {NOTE}
      ident: "00000000-0000-0000-0000-000000000000"  {NOTE}
      settings: null  {NOTE}
  - name: default-2
    entrypoint: pipelines/typed.py:also_hello  # flow 'hello'
    parameters:
      name: ""  {NOTE}
"""


def test_init_declares_one_deployment_per_flow_found(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(repo, FLOWS)
    assert dispatch(["init", str(repo)]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        wrote(3).replace("wrote    ", f"wrote    {repo.as_posix()}/")
        + NEXT_STEPS
        + f"Replace the placeholder values marked '{NOTE}' of:\n"
        "  pipelines/typed.py:typed, pipelines/typed.py:also_hello\n" + SECRETS
    )
    assert captured.err == (
        "warning: flows/broken.py: not declared: flows/broken.py line 4: invalid syntax\n"
        "warning: pipelines/typed.py:dynamic: not declared: pipelines/typed.py line 47: the "
        "flow name of 'dynamic' is NAME, which flowfleet cannot know without running code; "
        'write it as a string (a literal, a module-level NAME = "..." constant, or an '
        'f-string or + of those): name="..."\n'
    )
    config = (repo / "flowfleet.yaml").read_text()
    assert config[config.index("deployments:") :] == DEPLOYMENTS
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    assert dispatch(["validate"]) == 0
    assert capsys.readouterr().out == (
        "ok  flowfleet.yaml  dev: 3 deployments\nok  flowfleet.yaml  prod: 3 deployments\n"
    )


def test_existing_files_are_reported_and_kept(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(repo, {"Dockerfile": "FROM mine\n", "requirements.txt": "pandas\n"})
    assert dispatch(["init"]) == 0
    captured = capsys.readouterr()
    assert "wrote    Dockerfile\n" not in captured.out
    assert "wrote    flowfleet.yaml (0 deployments, one per flow found)\n" in captured.out
    assert captured.err == (
        "warning: Dockerfile exists, left as it is (--force overwrites it)\n"
        "warning: requirements.txt exists, left as it is (--force overwrites it); make sure it "
        "lists prefect-aws (the ECS worker)\n"
    )
    assert (repo / "Dockerfile").read_text() == "FROM mine\n"
    assert (repo / "requirements.txt").read_text() == "pandas\n"

    # Everything exists now: nothing is written, which is exit 1.
    (repo / "flowfleet.yaml").write_text("# mine\n")
    assert dispatch(["init"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith(
        "warning: infrastructure/ecs.json exists, left as it is (--force overwrites it)\n"
        "nothing was written: every file exists already (--force overwrites them)\n"
    )
    assert captured.err.count("exists, left as it is") == len(FILES)
    assert (repo / "flowfleet.yaml").read_text() == "# mine\n"

    assert dispatch(["init", "--force"]) == 0
    assert capsys.readouterr().out == wrote(0) + NEXT_STEPS + SECRETS
    assert (repo / "Dockerfile").read_text().startswith("# The worker image")
    assert (repo / "flowfleet.yaml").read_text().startswith("# yaml-language-server: $schema=")


def test_the_folder_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["init", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'nope'}: no such folder; init scaffolds an existing repository\n"
    )
    (tmp_path / "file").write_text("")
    assert dispatch(["init", str(tmp_path / "file")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'file'}: not a folder; give the repository's folder\n"
    )


def test_project_name_and_paths_follow_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "Data Team!"
    root.mkdir()
    assert dispatch(["init", str(root)]) == 0
    capsys.readouterr()
    config = (root / "flowfleet.yaml").read_text()
    assert "\nproject: Data-Team\n" in config
    assert "        directory: /opt/prefect/Data-Team\n" in config
    assert "\nWORKDIR /opt/prefect/Data-Team\n" in (root / "Dockerfile").read_text()


def test_ecs_template_without_prefect_aws_is_prefects_bundled_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prefect_aws", None)  # import prefect_aws fails
    template, source = ecs_base_job_template()
    assert source == "Prefect's bundled default for ecs"
    assert template == bundled_template("ecs")
    assert set(template) == {"job_configuration", "variables"}
    assert template["variables"]["properties"]["image"]["title"] == "Image"


def test_unknown_bundled_worker_type_is_a_user_error() -> None:
    from flowfleet.errors import FlowfleetError

    with pytest.raises(FlowfleetError, match=r"^Prefect bundles no default template for 'nope'"):
        bundled_template("nope")


def test_json_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(repo, {"flows/hello.py": FLOWS["flows/hello.py"], "Dockerfile": "FROM mine\n"})
    assert dispatch(["init", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "written": [f for f in WRITE_ORDER if f != "Dockerfile"],
        "skipped": ["Dockerfile"],
        "deployments": ["flows/hello.py:hello"],
        "not_declared": [],
    }


def test_a_file_where_a_folder_belongs_is_a_user_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".github").write_text("not a folder\n")
    assert dispatch(["init"]) == 1
    assert capsys.readouterr().err == (
        f"error: cannot create {repo}/.github/workflows: Not a directory\n"
    )
