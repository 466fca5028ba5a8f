"""The Python API example (deployments generated from a CSV table) against a real server,
and the API's plan/apply/preview through flowfleet.sdk."""

from __future__ import annotations

import asyncio
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flowfleet.sdk as ff
from tests.integration.conftest import Project, api, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python-api"


def _run_example(root: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "deploy.py"), "--api-url", url],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_example_applies_one_deployment_per_row(tmp_path: Path, project: Project) -> None:
    root = tmp_path / "python-api"
    shutil.copytree(EXAMPLE, root)
    url = project.servers.url("prod")
    done = _run_example(root, url)
    assert done.returncode == 0, done.stdout + done.stderr

    with (root / "deployments.csv").open() as rows:
        table = list(csv.DictReader(rows))
    live = {d["name"]: d for d in deployments_of(url, "regional-report")}
    assert set(live) == {f"report-{row['region']}" for row in table}
    for row in table:
        deployment = live[f"report-{row['region']}"]
        assert deployment["parameters"] == {
            "region": row["region"],
            "hour": int(row["hour"]),
            "full": row["full"] == "true",
        }
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["timezone"] == row["timezone"]
        assert deployment["work_pool_name"] == "reports-dev"
        assert "flowfleet:python-api-example/dev" in deployment["tags"]

    (root / "deployments.csv").write_text("\n".join(open_lines(root)[:-1]) + "\n")
    done = _run_example(root, url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"delete     regional-report/report-{table[-1]['region']}" in done.stdout
    assert len(deployments_of(url, "regional-report")) == len(table) - 1
    again = _run_example(root, url)
    assert "no changes" in again.stdout


def open_lines(root: Path) -> list[str]:
    return (root / "deployments.csv").read_text().splitlines()


def test_sdk_plan_apply_and_preview(project: Project) -> None:
    loaded = ff.build(
        {
            "environments": {"dev": {"api_url": project.servers.url("dev")}},
            "deployments": [
                {
                    "name": f"n{i}",
                    "entrypoint": "flows/main.py:main",
                    "parameters": {"number": i},
                    "schedules": [{"interval": 60 * (i + 1)}],
                }
                for i in range(3)
            ],
        },
        root=project.root,
        project="sdk-test",
    )
    [planned] = ff.plan(loaded, "dev")
    assert [c.action.value for c in planned.plan.changes] == ["create"] * 3
    [result] = ff.apply(loaded, "dev")
    assert result.counts()["create"] == 3 and not result.failed
    [again] = ff.plan(loaded, "dev")
    assert not again.has_changes

    [preview] = ff.apply(loaded, "dev", preview="pr-7")
    assert preview.counts()["create"] == 3
    names = {d["name"] for d in deployments_of(project.servers.url("dev"), project.flow)}
    assert names == {"n0", "n1", "n2", "n0--pr-7", "n1--pr-7", "n2--pr-7"}


def test_sdk_async_plan(project: Project) -> None:
    loaded = ff.build(
        {
            "environments": {"dev": {"api_url": project.servers.url("dev")}},
            "deployments": [{"name": "x", "entrypoint": "flows/main.py:main"}],
        },
        root=project.root,
    )

    async def in_a_loop() -> None:
        [planned] = await ff.aplan(loaded, "dev")
        assert [c.name for c in planned.plan.changes] == [f"{project.flow}/x"]
        with pytest.raises(ff.FlowfleetError, match="use aplan/aapply"):
            ff.plan(loaded, "dev")

    asyncio.run(in_a_loop())


def test_sdk_apply_holds_the_environment_lock(project: Project) -> None:
    from flowfleet.server.lock import Locked, lock_name

    url = project.servers.url("dev")
    loaded = ff.build(
        {
            "environments": {"dev": {"api_url": url}},
            "deployments": [{"name": "x", "entrypoint": "flows/main.py:main"}],
        },
        root=project.root,
    )
    value = {"holder": "ci-run-9", "since": "2026-01-01T00:00:00+00:00"}
    value["expires"] = "2999-01-01T00:00:00+00:00"
    name = lock_name(loaded.config.project or "", "dev")
    held = api(url, "POST", "/variables/", {"name": name, "value": value})

    with pytest.raises(Locked, match="held by ci-run-9"):
        ff.apply(loaded, "dev", lock_timeout=0)
    assert deployments_of(url, project.flow) == []  # nothing written

    api(url, "DELETE", f"/variables/{held['id']}")
    [result] = asyncio.run(ff.aapply(loaded, "dev", lock_timeout=0))
    assert result.counts()["create"] == 1
    assert [d["name"] for d in deployments_of(url, project.flow)] == ["x"]


def test_sdk_apply_refuses_as_the_command_line_does(project: Project) -> None:
    url = project.servers.url("dev")
    config = {
        "environments": {"dev": {"api_url": url}},
        "deployments": [{"name": n, "entrypoint": "flows/main.py:main"} for n in ("a", "b")],
    }
    loaded = ff.build(config, root=project.root)
    [result] = ff.apply(loaded, "dev")
    assert result.counts()["create"] == 2
    emptied = ff.build({**config, "deployments": []}, root=project.root)

    with pytest.raises(ff.PlanError) as refused:
        ff.apply(emptied, "dev", prune=True, max_deletes=1)
    message = (
        "dev: the plan deletes 2 deployments and resources, more than max_deletes 1; "
        "check the plan, then raise max_deletes"
    )
    assert refused.value.errors == [message] and str(refused.value) == message
    assert sorted(d["name"] for d in deployments_of(url, project.flow)) == ["a", "b"]

    missing_pool = {"name": "c", "entrypoint": "flows/main.py:main", "work_pool": {"name": "nope"}}
    broken = ff.build({**config, "deployments": [missing_pool]}, root=project.root)
    with pytest.raises(ff.PlanError, match="the plan cannot be applied:\n  dev: work pool 'nope'"):
        ff.apply(broken, "dev", prune=True, max_deletes=0)  # errors are reported first
    assert sorted(d["name"] for d in deployments_of(url, project.flow)) == ["a", "b"]
