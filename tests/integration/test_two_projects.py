"""Prune is scoped by the ownership marker: two projects, or two environments of one
project, sharing one server and the same flows never delete each other's deployments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.faults.figures import record
from tests.integration.conftest import Project, deployments_of

pytestmark = pytest.mark.xdist_group("servers")


def second_project(project: Project, name: str) -> Path:
    """Another project folder with the same flows and the same server."""
    root = project.root.parent / name
    shutil.copytree(project.root / "flows", root / "flows")
    return root / "flowfleet.yaml"


def write(config: Path, project_name: str, url: str, names: list[str], flow: str) -> None:
    entries = "".join(f"  - {{name: {n}, entrypoint: flows/main.py:main}}\n" for n in names)
    config.write_text(
        f"project: {project_name}\nenvironments:\n  dev: {{api_url: '{url}'}}\n"
        + ("deployments:\n" + entries if names else "deployments: []\n")
    )


def on_server(url: str, flow: str) -> dict[str, list[str]]:
    """Deployment name → its flowfleet tags."""
    return {
        d["name"]: sorted(t for t in d["tags"] if t.startswith("flowfleet:"))
        for d in deployments_of(url, flow)
    }


def apply(config: Path, *extra: str) -> int:
    return dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", *extra])


def test_prune_in_one_project_never_deletes_the_others(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url, flow = project.servers.url("dev"), project.flow
    alpha, beta = project.root / "flowfleet.yaml", second_project(project, "beta-root")
    a, b = f"alpha-{project.root.name}", f"beta-{project.root.name}"  # unique per test
    write(alpha, a, url, ["a1", "a2", "shared"], flow)
    write(beta, b, url, ["b1", "b2", "shared"], flow)
    assert apply(alpha) == 0
    assert apply(beta) == 0  # 'shared' is alpha's: a conflict, left alone
    assert "conflict" in capsys.readouterr().out
    assert on_server(url, flow) == {
        "a1": [f"flowfleet:{a}/dev"],
        "a2": [f"flowfleet:{a}/dev"],
        "shared": [f"flowfleet:{a}/dev"],
        "b1": [f"flowfleet:{b}/dev"],
        "b2": [f"flowfleet:{b}/dev"],
    }

    write(beta, b, url, [], flow)  # beta declares nothing any more
    assert apply(beta, "--prune") == 0
    assert sorted(on_server(url, flow)) == ["a1", "a2", "shared"]

    write(alpha, a, url, ["a1"], flow)
    assert apply(alpha, "--prune") == 0
    assert sorted(on_server(url, flow)) == ["a1"]
    record("two_projects", {"projects": 2, "prunes": 2, "foreign_deleted": 0})


def test_prune_in_one_environment_never_deletes_another_on_the_same_server(
    project: Project,
) -> None:
    url, flow = project.servers.url("dev"), project.flow
    header = (
        f"project: {project.root.name}\nenvironments:\n"
        f"  dev: {{api_url: '{url}'}}\n  staging: {{api_url: '{url}'}}\n"
    )
    project.write(
        "deployments:\n  - {name: 'job-{env}', entrypoint: flows/main.py:main}\n", header=header
    )
    assert dispatch(["apply", "-f", str(project.config), "--yes"]) == 0
    assert sorted(on_server(url, flow)) == ["job-dev", "job-staging"]

    project.write(
        "deployments:\n  - name: 'job-{env}'\n    entrypoint: flows/main.py:main\n"
        "    environments: {dev: {}}\n",
        header=header,
    )
    assert dispatch(["apply", "-f", str(project.config), "-e", "dev", "--yes", "--prune"]) == 0
    assert sorted(on_server(url, flow)) == ["job-dev", "job-staging"]
    assert dispatch(["apply", "-f", str(project.config), "-e", "staging", "--yes", "--prune"]) == 0
    assert on_server(url, flow) == {"job-dev": [f"flowfleet:{project.root.name}/dev"]}
