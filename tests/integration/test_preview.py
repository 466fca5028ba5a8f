"""Preview environments: a paused, separately owned copy of dev that dev's apply and prune
never touch, and that destroy removes completely."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.lock import lock_name
from tests.integration.conftest import Project, api, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

TWO = """
deployments:
  - name: daily
    entrypoint: flows/main.py:main
    schedules: [{cron: "0 6 * * *"}, {interval: 600}]
    work_pool: {name: shared-pool}
  - name: other
    entrypoint: flows/main.py:main
    tags: [team]
"""


def _names(project: Project) -> set[str]:
    return {d["name"] for d in deployments_of(project.servers.url("dev"), project.flow)}


def test_preview_lifecycle(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    url = project.servers.url("dev")
    args = ["-f", str(project.config), "--env", "dev"]
    project.write(TWO)
    assert dispatch(["apply", *args, "--yes"]) == 0

    assert dispatch(["plan", *args, "--preview", "pr-1", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert f"| + | `{project.flow}/daily--pr-1` | create |" in markdown
    assert dispatch(["apply", *args, "--preview", "pr-1", "--yes"]) == 0
    assert _names(project) == {"daily", "other", "daily--pr-1", "other--pr-1"}
    previews = {d["name"]: d for d in deployments_of(url, project.flow) if "--pr-1" in d["name"]}
    marker = f"flowfleet:{project.root.name}/dev/preview/pr-1"
    assert sorted(previews["other--pr-1"]["tags"]) == [marker, "team"]
    assert [s["active"] for s in previews["daily--pr-1"]["schedules"]] == [False, False]
    assert previews["daily--pr-1"]["work_pool_name"] == "shared-pool"
    dev = {d["name"]: d for d in deployments_of(url, project.flow) if "--" not in d["name"]}
    assert [s["active"] for s in dev["daily"]["schedules"]] == [True, True]
    capsys.readouterr()

    # dev no longer declares "other": dev's prune deletes dev's only, says nothing of pr-1
    project.write(TWO.split("  - name: other")[0])
    assert dispatch(["plan", *args, "--prune", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    assert [(c["deployment"], c["action"]) for c in plan["changes"]] == [
        ("daily", "unchanged"),
        ("other", "delete"),
    ]
    assert plan["orphans"] == []
    assert dispatch(["apply", *args, "--prune", "--yes"]) == 0
    assert _names(project) == {"daily", "daily--pr-1", "other--pr-1"}
    # the preview applied again is unchanged; its own prune deletes its own "other"
    assert dispatch(["plan", *args, "--preview", "pr-1", "--detailed-exitcode"]) == 0
    assert "other--pr-1" in capsys.readouterr().out  # listed as no longer declared
    project.write(TWO)
    assert dispatch(["apply", *args, "--preview", "pr-2", "--yes"]) == 0
    capsys.readouterr()

    assert dispatch(["destroy", *args, "--preview", "pr-1", "--json"]) == 1  # not a terminal
    assert "pass --yes" in capsys.readouterr().err
    assert dispatch(["destroy", *args, "--preview", "pr-1", "--yes", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert sorted(c["deployment"] for c in output["plans"][0]["changes"]) == [
        "daily--pr-1",
        "other--pr-1",
    ]
    assert output["results"][0]["counts"]["delete"] == 2
    assert _names(project) == {"daily", "daily--pr-2", "other--pr-2"}
    assert dispatch(["destroy", *args, "--preview", "pr-1", "--yes"]) == 0  # nothing left
    assert "No changes" in capsys.readouterr().out


def _variable(url: str, name: str) -> dict[str, Any] | None:
    try:
        return api(url, "GET", f"/variables/name/{name}")  # type: ignore[no-any-return]
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise


def test_destroy_takes_the_environment_lock_and_marks_it_written(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    args = ["-f", str(project.config), "--env", "dev"]
    project.write(TWO)
    assert dispatch(["apply", *args, "--preview", "pr-3", "--yes"]) == 0
    lock = lock_name(project.root.name, "dev")
    generation = lock.replace("flowfleet_lock__", "flowfleet_generation__")
    before = _variable(url, generation)
    assert before is not None  # the preview's apply wrote under dev's lock
    value = {"holder": "ci-run-8", "since": "2026-01-01T00:00:00+00:00"}
    value["expires"] = "2999-01-01T00:00:00+00:00"
    held = api(url, "POST", "/variables/", {"name": lock, "value": value})
    capsys.readouterr()

    # another apply holds dev's lock: destroy refuses at once and deletes nothing
    code = dispatch(["destroy", *args, "--preview", "pr-3", "--yes", "--lock-timeout", "0"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: environment 'dev' ({url}) is locked by another flowfleet apply " in err
    assert "held by ci-run-8" in err and "nothing was changed" in err
    assert _names(project) == {"daily--pr-3", "other--pr-3"}
    assert _variable(url, generation) == before
    assert _variable(url, lock)["id"] == held["id"]  # type: ignore[index]  # untouched

    # once it is released, destroy takes the lock, marks dev written, and releases it
    api(url, "DELETE", f"/variables/{held['id']}")
    assert dispatch(["destroy", *args, "--preview", "pr-3", "--yes", "--lock-timeout", "0"]) == 0
    assert _names(project) == set()
    after = _variable(url, generation)
    assert after is not None and after["value"] != before["value"]
    assert _variable(url, lock) is None
    assert dispatch(["destroy", *args, "--preview", "pr-3", "--lock-timeout", "-1"]) == 1
    assert "--lock-timeout must be 0 or more seconds, not -1" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", "has space", "x" * 41, "a/b", "ü"])
def test_invalid_preview_name(
    project: Project, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    project.write(TWO)
    for command in (["apply", "--yes"], ["plan"], ["destroy", "--yes"]):
        args = [*command, "-f", str(project.config), "--env", "dev", "--preview", name]
        assert dispatch(args) == 1
        assert f"--preview '{name}' is not a valid preview name" in capsys.readouterr().err
    assert _names(project) == set()
