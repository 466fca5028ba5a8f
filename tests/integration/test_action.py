"""flowfleet's GitHub Action: plan and apply against the real servers (tests/test_action.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Project, deployments_of
from tests.test_action import run_action

pytestmark = pytest.mark.xdist_group("servers")

ONE = """
deployments:
  - name: nightly
    entrypoint: flows/main.py:main
    work_pool: {name: shared-pool}
"""


def test_action_plan_then_apply_then_nothing_to_do(project: Project, tmp_path: Path) -> None:
    project.write(ONE)
    plan = run_action(project.root, tmp_path / "a", COMMAND="plan", ENVIRONMENTS="dev")
    assert plan.code == 0, plan.stderr  # changes are not a failure
    assert plan.outputs["exit-code"] == "2"
    assert plan.outputs["has-changes"] == "true"
    markdown = Path(plan.outputs["plan"]).read_text()
    assert f"| + | `{project.flow}/nightly` | create |" in markdown
    assert plan.summary == markdown  # the job summary holds the Markdown plan
    assert deployments_of(project.servers.url("dev"), project.flow) == []  # plan wrote nothing

    apply = run_action(project.root, tmp_path / "b", COMMAND="apply", ENVIRONMENTS="dev")
    assert apply.code == 0, apply.stderr
    assert (apply.outputs["exit-code"], apply.outputs["has-changes"]) == ("0", "true")
    assert f"`{project.flow}/nightly` | create" in apply.summary
    assert [d["name"] for d in deployments_of(project.servers.url("dev"), project.flow)] == [
        "nightly"
    ]
    assert deployments_of(project.servers.url("prod"), project.flow) == []

    again = run_action(project.root, tmp_path / "c", COMMAND="plan", ENVIRONMENTS="dev")
    assert (again.code, again.outputs["exit-code"], again.outputs["has-changes"]) == (
        0,
        "0",
        "false",
    )


def test_action_plan_error_fails_the_step_and_apply_writes_nothing(
    project: Project, tmp_path: Path
) -> None:
    project.write(ONE.replace("shared-pool", "no-such-pool"))
    apply = run_action(project.root, tmp_path / "a", COMMAND="apply", ENVIRONMENTS="dev")
    assert apply.code == 1
    assert (apply.outputs["exit-code"], apply.outputs["has-changes"]) == ("1", "false")
    assert "no-such-pool" in apply.stdout + apply.stderr
    assert deployments_of(project.servers.url("dev"), project.flow) == []
