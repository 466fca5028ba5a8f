"""The command line as a user runs it: exit codes, help, schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from flowfleet.commands.schema import config_schema

ROOT = Path(__file__).resolve().parents[1]


def test_help_does_not_import_prefect() -> None:
    code = (
        "import sys\n"
        "from flowfleet.cli.main import dispatch\n"
        "rc = dispatch(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pydantic'))\n"
        "print('HEAVY', heavy, rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY [] 0" in result.stdout
    assert "validate" in result.stdout


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "schema" / "flowfleet.schema.json").read_text())
    assert committed == config_schema(), "run `make schema` and commit the result"


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == config_schema()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate", "--bogus"], "error: Unknown option: --bogus."),
        (["nonsense"], "error: Unknown command"),
        (["render", "--env"], "error:"),
    ],
)
def test_usage_errors_exit_1(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dispatch(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(expected)
    assert "Traceback" not in err


def test_missing_default_file_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert dispatch(["validate"]) == 1
    assert capsys.readouterr().err.startswith("flowfleet.yaml: cannot read the file")


def test_the_command_line_defaults_are_the_cores() -> None:
    """cli/options copies two defaults so that --help imports no core module."""
    from flowfleet.cli import options
    from flowfleet.server import lock, pacing

    assert options.DEFAULT_LOCK_TIMEOUT == lock.DEFAULT_TIMEOUT
    assert options.DEFAULT_TIMEOUT == pacing.DEFAULT_DEADLINE
