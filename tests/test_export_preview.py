"""Pure parts of export and previews."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.interop.export import ServerState, export_config, schedule_entry
from flowfleet.model.resources import ConcurrencyOptions, Deployment, Schedule
from flowfleet.plan.preview import PreviewNameError, check_name, preview_deployments
from flowfleet.server.wire import WorkPoolResponse


def _d(name: str, **fields: object) -> Deployment:
    return Deployment(flow_name="f", name=name, entrypoint="flows/f.py:f", **fields)  # type: ignore[arg-type]


def test_export_factors_shared_values_and_escapes_variables() -> None:
    steps = ({"prefect.deployments.steps.set_working_directory": {"directory": "/app"}},)
    state = ServerState(
        (
            _d("a", tags=("x", "flowfleet:old/dev", "y"), work_pool_name="p", pull_steps=steps),
            _d("b", tags=("y",), work_pool_name="p", pull_steps=steps, paused=True),
            _d("c", description="costs ${PRICE}", enforce_parameter_schema=False),
        ),
        {"p": WorkPoolResponse(id="1", name="p", type="process", base_job_template={"v": 1})},
    )
    config, warnings = export_config("proj", "dev", {"local": True}, state, lambda t: {"v": 1})
    assert warnings == []
    assert "defaults" not in config  # c has neither the pool nor the pull steps
    assert config["work_pools"] == {"p": {"type": "process"}}
    assert config["deployments"] == [
        {
            "name": "a",
            "entrypoint": "flows/f.py:f",
            "tags": ["x", "y"],
            "work_pool": {"name": "p"},
            "pull_steps": [dict(steps[0])],
        },
        {
            "name": "b",
            "entrypoint": "flows/f.py:f",
            "tags": ["y"],
            "work_pool": {"name": "p"},
            "pull_steps": [dict(steps[0])],
            "paused": True,
        },
        {
            "name": "c",
            "entrypoint": "flows/f.py:f",
            "description": "costs $${PRICE}",
            "enforce_parameter_schema": False,
        },
    ]


def test_export_writes_concurrency_options_as_prefect_yaml_does() -> None:
    """The mapping only when there is more than the server's default (ENQUEUE, no grace
    period); options without a limit limit nothing and are left out."""
    cancel = ConcurrencyOptions(collision_strategy="CANCEL_NEW", grace_period_seconds=600)
    state = ServerState(
        (
            _d("a", concurrency_limit=2, concurrency_options=cancel),
            _d("b", concurrency_limit=3, concurrency_options=ConcurrencyOptions()),
            _d("c", concurrency_options=cancel),
            _d("d", concurrency_limit=1),
        ),
        {},
    )
    config, _ = export_config("proj", "dev", {"local": True}, state, lambda t: None)
    assert [e.get("concurrency_limit") for e in config["deployments"]] == [
        {"limit": 2, "collision_strategy": "CANCEL_NEW", "grace_period_seconds": 600},
        3,
        None,
        1,
    ]


def test_export_defaults_when_all_share() -> None:
    state = ServerState(
        (_d("a", tags=("t", "u"), work_pool_name="p"), _d("b", tags=("t",), work_pool_name="p")),
        {},
    )
    config, _ = export_config("proj", "dev", {}, state, lambda t: None)
    assert config["defaults"] == {"tags": ["t"], "work_pool": {"name": "p"}}
    assert [d.get("tags") for d in config["deployments"]] == [["u"], None]
    assert "work_pools" not in config  # the pool is not on the server


def test_export_skips_deployments_without_entrypoint() -> None:
    state = ServerState((Deployment(flow_name="f", name="ui", entrypoint=""),), {})
    config, warnings = export_config("proj", "dev", {}, state, lambda t: None)
    assert config["deployments"] == []
    assert warnings == [
        "f/ui: skipped: it has no entrypoint (made without code, e.g. in the UI or by a "
        "script); declare it by hand"
    ]


def test_schedule_entries() -> None:
    assert schedule_entry(Schedule(slug="(no slug) 1", interval=3600.0, active=False)) == {
        "interval": 3600,
        "active": False,
    }
    assert schedule_entry(
        Schedule(slug="s", cron="0 * * * *", day_or=False, timezone="Europe/Paris")
    ) == {"cron": "0 * * * *", "day_or": False, "timezone": "Europe/Paris", "slug": "s"}


def test_preview_deployments_are_renamed_remarked_and_paused() -> None:
    live = _d("a", tags=("t", "flowfleet:p/dev"), schedules=(Schedule(slug="s", cron="0 * * * *"),))
    [preview] = preview_deployments(
        [live], "flowfleet:p/dev", "flowfleet:p/dev/preview/pr-1", "pr-1"
    )
    assert preview.name == "a--pr-1"
    assert preview.tags == ("t", "flowfleet:p/dev/preview/pr-1")
    assert [s.active for s in preview.schedules] == [False]


@pytest.mark.parametrize("name", ["pr-1", "A_b-9", "x" * 40])
def test_valid_preview_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 41, "a.b", "a b", "a/b"])
def test_invalid_preview_names(name: str) -> None:
    with pytest.raises(PreviewNameError, match="use 1 to 40 letters, digits, '-' and '_'"):
        check_name(name)


def test_export_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path / "flowfleet.yaml")]
    url = f"http://127.0.0.1:{_free_port()}/api"
    assert dispatch(["export", "--env", "dev", "--api-url", url, *out]) == 1
    assert f"environment 'dev': cannot reach {url}" in capsys.readouterr().err
    assert dispatch(["export", "--env", "no good", "--api-url", url, *out]) == 1
    assert "--env 'no good' is not a valid environment name" in capsys.readouterr().err
    args = ["export", "--env", "dev", "--api-url", url, "--api-key-env", "UNSET_KEY_VAR", *out]
    assert dispatch(args) == 1
    assert "the variable UNSET_KEY_VAR named by api_key_env is not set" in capsys.readouterr().err
    assert not (tmp_path / "flowfleet.yaml").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
