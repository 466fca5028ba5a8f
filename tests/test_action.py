"""flowfleet's GitHub Action (action.yml) and pre-commit hook (.pre-commit-hooks.yaml).

The action's shell step is run here as GitHub runs it (`bash --noprofile --norc -eo
pipefail`), with the files GitHub gives it ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY); plan and
apply against real servers are in tests/integration/test_action.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "quickstart"
BIN = Path(sys.executable).parent


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return data


def flowfleet_step() -> dict[str, Any]:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "flowfleet"]
    return step


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def run_action(cwd: Path, temp: Path, **inputs: str) -> ActionRun:
    """The action's flowfleet step with `inputs` (the step's env names them)."""
    temp.mkdir(exist_ok=True)
    (temp / "output").write_text("")
    (temp / "summary").write_text("")
    given = {"COMMAND": "plan", "ENVIRONMENTS": "", "CONFIG": "flowfleet.yaml", "PREVIEW": ""}
    given |= {"ARGS": "", **inputs}
    assert set(given) == set(flowfleet_step()["env"])
    env = {
        **os.environ,
        **given,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "GITHUB_RUN_ID": "7",
        "GITHUB_ACTION": "flowfleet",
        "GITHUB_OUTPUT": str(temp / "output"),
        "GITHUB_STEP_SUMMARY": str(temp / "summary"),
    }
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", flowfleet_step()["run"]]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    lines = (temp / "output").read_text().splitlines()
    outputs = dict(line.split("=", 1) for line in lines)
    summary = (temp / "summary").read_text()
    return ActionRun(result.returncode, result.stdout, result.stderr, outputs, summary)


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    copy = tmp_path / "quickstart"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".flowfleet", "__pycache__"))
    return copy


# --- action.yml -----------------------------------------------------------------------------


def test_action_is_a_composite_with_the_documented_inputs_and_outputs() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert set(data["inputs"]) == {
        "command",
        "env",
        "config",
        "preview",
        "args",
        "working-directory",
        "python-version",
        "flowfleet",
        "install",
    }
    assert set(data["outputs"]) == {"exit-code", "has-changes", "plan"}
    for step in data["runs"]["steps"]:
        assert "uses" in step or step["shell"] == "bash"  # composite run steps need a shell
    install = data["runs"]["steps"][1]
    assert install["run"] == 'python -m pip install --quiet "${REQUIREMENT:-$GITHUB_ACTION_PATH}"'


def test_action_script_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\n" + flowfleet_step()["run"])
    result = subprocess.run(
        [str(BIN / "shellcheck"), "--shell=bash", str(script)], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_action_validate_passes_on_the_example(
    quickstart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUICKSTART_DIR", raising=False)
    result = run_action(quickstart, tmp_path / "runner", COMMAND="validate", ENVIRONMENTS="prod")
    assert result.code == 0, result.stderr
    assert result.outputs == {"exit-code": "0"}
    assert "prod" in result.stdout


def test_action_validate_fails_with_the_problem(quickstart: Path, tmp_path: Path) -> None:
    config = quickstart / "flowfleet.yaml"
    config.write_text(config.read_text().replace("project: quickstart", "projekt: quickstart"))
    result = run_action(quickstart, tmp_path / "runner", COMMAND="validate")
    assert result.code == 1
    assert result.outputs == {"exit-code": "1"}
    assert re.search(r"flowfleet\.yaml:\d+:\d+", result.stdout + result.stderr)
    assert "projekt" in result.stdout + result.stderr


def test_action_refuses_an_unknown_command(quickstart: Path, tmp_path: Path) -> None:
    result = run_action(quickstart, tmp_path / "runner", COMMAND="deploy")
    assert result.code == 1
    assert result.stdout == (
        "::error::flowfleet action: command must be validate, plan, apply or destroy, "
        "not 'deploy'\n"
    )


# --- .pre-commit-hooks.yaml -----------------------------------------------------------------


def hook() -> dict[str, Any]:
    (only,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(only, dict)
    return only


def test_pre_commit_manifest_is_valid() -> None:
    result = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_pre_commit_validate_manifest_does_catch_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / ".pre-commit-hooks.yaml"
    broken.write_text("- id: flowfleet-validate\n  entry: flowfleet validate\n")
    result = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", str(broken)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Missing required key: name" in result.stdout


def test_hook_runs_flowfleet_validate_on_the_files_it_reads() -> None:
    found = hook()
    assert (found["id"], found["entry"], found["language"]) == (
        "flowfleet-validate",
        "flowfleet validate",
        "python",
    )
    assert found["pass_filenames"] is False  # validate takes files with -f
    files = re.compile(found["files"])
    for path in [
        "flowfleet.yaml",
        "deploy/flowfleet.yaml",
        "flows/etl.py",
        "infrastructure/ecs.json",
    ]:
        assert files.search(path), path
    for path in ["README.md", "myflowfleet.yaml", "docs/config.yaml", "Dockerfile"]:
        assert not files.search(path), path


def test_hook_entry_validates_the_example(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUICKSTART_DIR", raising=False)
    program, *args = hook()["entry"].split()
    result = subprocess.run(
        [str(BIN / program), *args], cwd=quickstart, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "ok  flowfleet.yaml  dev" in result.stdout
