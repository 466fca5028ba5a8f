"""Prune deletes only what this project owns; unowned collisions are left alone."""

from __future__ import annotations

import json

import pytest

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Project, api, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

TWO = """
deployments:
  - {name: keep, entrypoint: flows/main.py:main}
  - {name: drop, entrypoint: flows/main.py:main}
"""
ONE = """
deployments:
  - {name: keep, entrypoint: flows/main.py:main}
"""


def _flow_id(url: str, flow: str) -> str:
    [found] = api(url, "POST", "/flows/filter", {"flows": {"name": {"any_": [flow]}}})
    return str(found["id"])


def test_prune_deletes_only_owned(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    url = project.servers.url("dev")
    project.write(TWO)
    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    flow_id = _flow_id(url, project.flow)
    # Deployments of the same flow that this project does not own:
    api(url, "POST", "/deployments/", {"name": "handmade", "flow_id": flow_id, "tags": ["x"]})
    other_marker = "flowfleet:another-project/dev"
    api(
        url, "POST", "/deployments/", {"name": "theirs", "flow_id": flow_id, "tags": [other_marker]}
    )
    project.write(ONE)

    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    assert {d["name"] for d in deployments_of(url, project.flow)} == {
        "keep",
        "drop",
        "handmade",
        "theirs",
    }, "without --prune nothing is deleted"
    assert "drop" in capsys.readouterr().out  # listed as no longer declared

    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes", "--prune"]) == 0
    assert {d["name"] for d in deployments_of(url, project.flow)} == {"keep", "handmade", "theirs"}


def test_unowned_collision_needs_adopt(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("prod")
    flow_id = api(url, "POST", "/flows/", {"name": project.flow})["id"]
    api(url, "POST", "/deployments/", {"name": "keep", "flow_id": flow_id, "description": "mine"})
    before = read_deployment(url, project.flow, "keep")
    project.write(ONE)

    assert dispatch(["plan", "-f", str(project.config), "--env", "prod", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    [change] = plan["changes"]
    assert change["action"] == "conflict"
    assert "--adopt" in change["reason"]
    assert dispatch(["apply", "-f", str(project.config), "--env", "prod", "--yes"]) == 0
    assert read_deployment(url, project.flow, "keep") == before

    assert dispatch(["apply", "-f", str(project.config), "--env", "prod", "--yes", "--adopt"]) == 0
    adopted = read_deployment(url, project.flow, "keep")
    assert adopted is not None and before is not None
    assert adopted["id"] == before["id"]
    assert adopted["description"] is None
    assert f"flowfleet:{project.root.name}/prod" in adopted["tags"]


def test_max_deletes_refuses(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    url = project.servers.url("dev")
    project.write(TWO)
    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    project.write("deployments: []\n")
    capsys.readouterr()
    code = dispatch(
        [
            "apply",
            "-f",
            str(project.config),
            "--env",
            "dev",
            "--yes",
            "--prune",
            "--max-deletes",
            "1",
        ]
    )
    assert code == 1
    assert capsys.readouterr().err == (
        "error: dev: the plan deletes 2 deployments and resources, more than --max-deletes 1; "
        "check the plan, then raise --max-deletes\n"
    )
    assert {d["name"] for d in deployments_of(url, project.flow)} == {"keep", "drop"}


def test_unowned_collision_is_found_beside_owned_deployments(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The unowned deployments are looked for by the names of the declared ones not
    owned (flowfleet.server.read): a collision is found while others are owned, and a
    same-named deployment of another flow is no collision."""
    url = project.servers.url("dev")
    project.write(ONE)
    assert dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes"]) == 0
    flow_id = _flow_id(url, project.flow)
    api(url, "POST", "/deployments/", {"name": "drop", "flow_id": flow_id, "tags": ["x"]})
    other = api(url, "POST", "/flows/", {"name": f"{project.flow}-other"})["id"]
    api(url, "POST", "/deployments/", {"name": "drop", "flow_id": other})
    project.write(TWO)
    capsys.readouterr()

    assert dispatch(["plan", "-f", str(project.config), "--env", "dev", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    actions = {change["deployment"]: change["action"] for change in plan["changes"]}
    assert actions == {"keep": "unchanged", "drop": "conflict"}
    assert all(change["flow"] == project.flow for change in plan["changes"])
