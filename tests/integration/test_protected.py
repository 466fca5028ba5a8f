"""`protected: true` is recorded on the server and blocks prune, even after the
deployment is removed from the config."""

from __future__ import annotations

import pytest

from flowfleet.cli.main import dispatch
from tests.faults.figures import record
from tests.integration.conftest import Project, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

BOTH = """
deployments:
  - name: precious
    entrypoint: flows/main.py:main
    protected: PROTECTED
  - name: ordinary
    entrypoint: flows/main.py:main
"""
NONE = "deployments: []\n"


def test_protected_deployment_survives_prune_until_unprotected(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    config = project.write(BOTH.replace("PROTECTED", "true"))
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes"]) == 0
    precious = read_deployment(url, project.flow, "precious")
    assert precious is not None and "flowfleet:protected" in precious["tags"]
    ordinary = read_deployment(url, project.flow, "ordinary")
    assert ordinary is not None and "flowfleet:protected" not in ordinary["tags"]
    capsys.readouterr()

    project.write(NONE)  # both removed from the config
    code = dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--prune"])

    captured = capsys.readouterr()
    assert code == 1
    assert (
        f"dev: deployment '{project.flow}/precious' is protected (tag 'flowfleet:protected') "
        "and --prune would delete it; to delete it, declare it again with `protected: false`, "
        "apply, then remove it from the config" in " ".join(captured.err.split())
    )
    # a plan error blocks the whole apply: the unprotected one is not deleted either
    kept = sorted(d["name"] for d in deployments_of(url, project.flow))
    assert kept == ["ordinary", "precious"]
    record("protected", {"blocked_prunes": 1, "deleted_while_protected": 2 - len(kept)})

    project.write(BOTH.replace("PROTECTED", "false"))
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes"]) == 0
    precious = read_deployment(url, project.flow, "precious")
    assert precious is not None and "flowfleet:protected" not in precious["tags"]

    project.write(NONE)
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--prune"]) == 0
    assert deployments_of(url, project.flow) == []


def test_plan_shows_the_protection_error_and_exits_1(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.write(BOTH.replace("PROTECTED", "true"))
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes"]) == 0
    project.write(NONE)
    capsys.readouterr()

    assert dispatch(["plan", "-f", str(config), "-e", "dev", "--prune"]) == 1
    out = capsys.readouterr().out
    assert f"  - {project.flow}/ordinary  delete: no longer declared" in out
    assert f"  error: deployment '{project.flow}/precious' is protected" in out
