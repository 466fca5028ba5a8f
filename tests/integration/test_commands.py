"""plan's output formats and exit codes, apply's refusals, and the server command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Project, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

ONE = """
deployments:
  - name: nightly
    entrypoint: flows/main.py:main
    parameters: {number: 2}
    work_pool: {name: shared-pool}
"""


def test_plan_exit_codes_and_markdown(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    project.write(ONE)
    args = ["plan", "-f", str(project.config), "--env", "dev"]
    assert dispatch([*args, "--detailed-exitcode"]) == 2
    capsys.readouterr()

    assert dispatch([*args, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert f"### flowfleet plan: `{project.root.name}` / `dev`" in markdown
    assert f"| + | `{project.flow}/nightly` | create |" in markdown
    assert "**Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged.**" in markdown

    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    assert dispatch([*args, "--detailed-exitcode"]) == 0


def test_missing_work_pool_is_a_plan_error_and_blocks_apply(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(ONE.replace("shared-pool", "no-such-pool"))
    assert dispatch(["plan", "-f", str(project.config), "--env", "prod", "--json"]) == 1
    [plan] = json.loads(capsys.readouterr().out)
    assert plan["errors"] == [
        f"work pool 'no-such-pool' does not exist on the server (used by {project.flow}/nightly); "
        "create it (e.g. `prefect work-pool create`) or fix the name"
    ]
    assert dispatch(["apply", "-f", str(project.config), "--env", "prod", "--yes"]) == 1
    assert "work pool 'no-such-pool' does not exist" in capsys.readouterr().err
    assert deployments_of(project.servers.url("prod"), project.flow) == []


def test_apply_refuses_without_yes_off_a_terminal(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(ONE)
    assert dispatch(["apply", "-f", str(project.config), "--env", "dev"]) == 1
    assert "not on a terminal: pass --yes" in capsys.readouterr().err
    assert deployments_of(project.servers.url("dev"), project.flow) == []


def test_server_start_status_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "flowfleet.yaml"
    config.write_text("project: s\nenvironments:\n  qa: {local: true}\ndeployments: []\n")
    args = ["--env", "qa", "-f", str(config), "--json"]
    try:
        assert dispatch(["server", "start", *args]) == 0
        started = json.loads(capsys.readouterr().out)
        assert started["running"] is True
        assert dispatch(["server", "status", *args]) == 0
        assert json.loads(capsys.readouterr().out)["api_url"] == started["api_url"]
        assert (tmp_path / ".flowfleet" / "qa" / "prefect.db").exists()
    finally:
        assert dispatch(["server", "stop", *args]) == 0
    assert json.loads(capsys.readouterr().out)["stopped"] is True
    assert dispatch(["server", "status", *args]) == 1
    assert json.loads(capsys.readouterr().out) == {"environment": "qa", "running": False}
