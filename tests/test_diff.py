"""`flowfleet diff`: how two environments' declared deployments differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "flowfleet.yaml"


def test_diff_of_the_example(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUICKSTART_DIR", raising=False)
    assert dispatch(["diff", "dev", "prod", "-f", str(EXAMPLE), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["only_in"] == {"dev": ["hello/smoke-test"], "prod": ["cleanup/nightly"]}
    changed = {c["deployment"]: {f["field"] for f in c["fields"]} for c in result["changed"]}
    assert changed["hello/daily"] == {"schedules", "tags", "work_pool_name", "job_variables"}
    assert changed["etl/orders"] == {
        "parameters",
        "schedules",
        "tags",
        "work_pool_name",
        "work_queue_name",
        "job_variables",
    }
    [daily] = [c for c in result["changed"] if c["deployment"] == "hello/daily"]
    pools = [f for f in daily["fields"] if f["field"] == "work_pool_name"]
    assert pools == [{"field": "work_pool_name", "dev": "local-dev", "prod": "local-prod"}]


def test_diff_of_an_environment_with_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["diff", "prod", "prod", "-f", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == "prod and prod declare the same deployments.\n"
