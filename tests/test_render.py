"""Table-driven render tests (cases in render_cases/: the deployments, and the standalone
automations when a case expects some), the golden file, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree

CASES = sorted((Path(__file__).parent / "render_cases").glob("*.yaml"))
ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart"
PARAMS = ("a", "b", "c", "nested", "region", "size", "label", "raw", "table", "x")
ANY_FLOW = (
    "from prefect import flow\n\n\n@flow\n"
    f"def anything({', '.join(f'{p}=None' for p in PARAMS)}):\n    return a\n"
)


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_render_case(
    case_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case: dict[str, Any] = yaml.safe_load(case_file.read_text())
    config = case.get("config_name", "flowfleet.yaml")
    write_tree(tmp_path, {config: case["config"], "flows/any.py": ANY_FLOW})
    for name, value in case.get("environ", {}).items():
        monkeypatch.setenv(name, value)
    env_args = ["--env", case["environment"]] if case["environment"] else []

    code = dispatch(["render", "-f", str(tmp_path / config), *env_args, "--json"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    rendered = json.loads(captured.out)
    assert rendered["deployments"] == case["expected"]
    assert rendered.get("automations", []) == case.get("expected_automations", [])


def test_golden_prod_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """`flowfleet render --env prod --json` of the example equals the committed file."""
    monkeypatch.delenv("QUICKSTART_DIR", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "flowfleet.cli", "render", "--env", "prod", "--json"],
        cwd=QUICKSTART,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    golden = (Path(__file__).parent / "golden" / "quickstart-prod.json").read_text()
    assert result.stdout == golden


def test_render_is_byte_identical_across_runs() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-m", "flowfleet.cli", "render", "--env", "dev"],
            cwd=QUICKSTART,
            capture_output=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_render_text_shows_triggers_and_automations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The YAML output has the same `triggers` and `automations` as --json."""
    case = yaml.safe_load((Path(__file__).parent / "render_cases" / "triggers.yaml").read_text())
    write_tree(tmp_path, {"flowfleet.yaml": case["config"], "flows/any.py": ANY_FLOW})

    assert dispatch(["render", "-f", str(tmp_path / "flowfleet.yaml"), "--env", "prod"]) == 0

    text = yaml.safe_load(capsys.readouterr().out)
    assert [d.get("triggers") for d in text["deployments"]] == [
        d.get("triggers") for d in case["expected"]
    ]
    assert text["automations"] == case["expected_automations"]
    assert dispatch(["render", "-f", str(tmp_path / "flowfleet.yaml"), "--env", "dev"]) == 0
    dev = yaml.safe_load(capsys.readouterr().out)
    assert [a["name"] for a in dev["automations"]] == ["dev-only"]  # the other: prod only
