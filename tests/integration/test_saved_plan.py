"""`plan --out plan.json`, then `apply plan.json`: exactly that plan, or a refusal (exit 1,
nothing written) when the config or the server changed since."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.faults.figures import record
from tests.integration.conftest import Project, api, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

ONE = """
deployments:
  - name: first
    entrypoint: flows/main.py:main
    parameters: {number: 1}
"""
TWO = """
deployments:
  - name: first
    entrypoint: flows/main.py:main
    parameters: {number: 2}
  - name: second
    entrypoint: flows/main.py:main
"""


def plan_to_file(project: Project, path: Path) -> None:
    assert dispatch(["plan", "-f", str(project.config), "-e", "dev", "--out", str(path)]) == 0


def names(project: Project) -> list[str]:
    return sorted(d["name"] for d in deployments_of(project.servers.url("dev"), project.flow))


@pytest.fixture
def planned(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """`first` applied; the config now updates it and adds `second`; that plan saved."""
    project.write(ONE)
    assert dispatch(["apply", "-f", str(project.config), "-e", "dev", "--yes"]) == 0
    project.write(TWO)
    path = tmp_path / "plan.json"
    plan_to_file(project, path)
    capsys.readouterr()
    return path


def test_saved_plan_is_applied(
    project: Project, planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(planned.read_text())
    assert data["flowfleet_plan"] == 1
    assert data["request"]["environments"] == ["dev"]
    [env] = data["environments"]
    assert env["environment"] == "dev" and env["api_url"] == project.servers.url("dev")
    assert [(c["action"], c["deployment"]) for c in env["changes"]] == [
        ("update", "first"),
        ("create", "second"),
    ]
    assert f"deployment:{project.flow}/first" in env["desired"]
    assert f"deployment:{project.flow}/first" in env["live"]

    assert dispatch(["apply", str(planned)]) == 0  # no --yes needed: the plan was reviewed

    assert "1 created, 1 updated" in capsys.readouterr().out
    assert names(project) == ["first", "second"]
    first = read_deployment(project.servers.url("dev"), project.flow, "first")
    assert first is not None and first["parameters"] == {"number": 2}
    assert dispatch(["plan", "-f", str(project.config), "-e", "dev", "--detailed-exitcode"]) == 0


def test_saved_plan_refused_when_the_server_changed(
    project: Project, planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    first = read_deployment(url, project.flow, "first")
    assert first is not None
    api(url, "PATCH", f"/deployments/{first['id']}", {"description": "edited in the UI"})

    assert dispatch(["apply", str(planned)]) == 1

    err = " ".join(capsys.readouterr().err.split())
    assert (
        f"{planned}: the saved plan is out of date; nothing was changed: environment 'dev' "
        f"({url}): the server changed since the plan: deployment:{project.flow}/first (changed)"
    ) in err
    assert "Run `flowfleet plan --out` again" in err
    assert names(project) == ["first"]  # nothing written
    after = read_deployment(url, project.flow, "first")
    assert after is not None and after["parameters"] == {"number": 1}
    assert after["description"] == "edited in the UI"
    record("saved_plan_server", {"refused": 1, "writes": 0})


def test_saved_plan_refused_when_the_config_changed(
    project: Project, planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(TWO.replace("name: second", "name: second\n    parameters: {number: 7}"))

    assert dispatch(["apply", str(planned)]) == 1

    err = " ".join(capsys.readouterr().err.split())
    url = project.servers.url("dev")
    assert (
        f"environment 'dev' ({url}): the config changed since the plan: "
        f"deployment:{project.flow}/second (changed)"
    ) in err
    assert names(project) == ["first"]
    record("saved_plan_config", {"refused": 1, "writes": 0})


def test_saved_plan_fixes_its_options(
    project: Project, planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dispatch(["apply", str(planned), "--env", "dev", "--prune"]) == 1
    err = capsys.readouterr().err
    assert f"{planned}: a saved plan fixes the files, environments and options" in err
    assert "drop --env, --prune" in err
    assert names(project) == ["first"]


def test_not_a_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"hello": 1}')
    assert dispatch(["apply", str(bad)]) == 1
    assert f"error: {bad}: not a plan file of format 1" in capsys.readouterr().err
    bad.write_text("{")
    assert dispatch(["apply", str(bad)]) == 1
    assert f"error: {bad}: not a plan file (invalid JSON)" in capsys.readouterr().err
    assert dispatch(["apply", str(tmp_path / "missing.json")]) == 1
    assert "cannot read the plan file: No such file or directory" in capsys.readouterr().err
