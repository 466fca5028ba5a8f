"""validate without false alarms (issue 13): a required parameter the deployment leaves unset
is an error only where a run is certain to lack it; values are checked against the models
of the project; notes under --verbose."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch

FLOW = """
from typing import Optional

from prefect import flow
from pydantic import BaseModel
from nosuchlib import Frame


class Retention(BaseModel):
    days_to_keep: int = 30


@flow(name="hello")
def hello(number: int, name: str = "x", retention: Optional[Retention] = None, frame: Frame = None):
    pass
"""


def validate(
    tmp_path: Path, deployment: str, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    (tmp_path / "flows").mkdir(exist_ok=True)
    (tmp_path / "flows/hello.py").write_text(textwrap.dedent(FLOW), encoding="utf-8")
    config = tmp_path / "flowfleet.yaml"
    config.write_text(
        "project: shop\nenvironments:\n  dev: {local: true}\ndeployments:\n"
        + textwrap.indent(textwrap.dedent(deployment), "  "),
        encoding="utf-8",
    )
    code = dispatch(["validate", "-f", str(config), *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err.replace(str(tmp_path), "{dir}")


def test_unset_required_parameter_without_schedules_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = """
    - name: daily
      entrypoint: flows/hello.py:hello
    """
    code, err = validate(tmp_path, deployment, capsys)
    assert code == 0
    assert err == (
        "{dir}/flowfleet.yaml:6:5: warning: missing required parameter 'number' of flow"
        " 'hello' (unset here: each run must supply it, or the run is refused; set it under"
        " parameters if every run needs the same value) [dev]\n"
    )


def test_unset_required_parameter_without_schema_enforcement_is_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = """
    - name: daily
      entrypoint: flows/hello.py:hello
      enforce_parameter_schema: false
    """
    assert validate(tmp_path, deployment, capsys) == (0, "")


def test_a_schedule_that_supplies_it_is_fine_one_that_does_not_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = """
    - name: daily
      entrypoint: flows/hello.py:hello
      schedules:
        - {cron: "0 0 * * *", parameters: {number: 1}}
        - {cron: "0 6 * * *", slug: morning}
    """
    code, err = validate(tmp_path, deployment, capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        "{dir}/flowfleet.yaml:10:9: schedule 'morning': its runs lack required parameter"
        " 'number' of flow 'hello'; set it under the deployment's parameters or the"
        " schedule's [dev]"
    )


def test_a_field_of_a_model_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deployment = """
    - name: daily
      entrypoint: flows/hello.py:hello
      parameters:
        number: 1
        retention: {days_to_keep: thirty}
    """
    code, err = validate(tmp_path, deployment, capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        "{dir}/flowfleet.yaml:10:18: parameter 'retention['days_to_keep']' of flow 'hello':"
        " expected integer, found 'thirty' (a string) [dev]"
    )


def test_verbose_notes_types_of_libraries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = """
    - name: daily
      entrypoint: flows/hello.py:hello
      parameters: {number: 1}
    """
    assert validate(tmp_path, deployment, capsys) == (0, "")
    code, err = validate(tmp_path, deployment, capsys, "--verbose")
    assert code == 0
    assert err == (
        "note: {dir}/flowfleet.yaml:7:17: parameter 'frame' of flow 'hello' is annotated with a"
        " type from 'nosuchlib', which flowfleet does not import; its schema is {}, as Prefect"
        " makes it where 'nosuchlib' is not installed [dev]\n"
    )
    dispatch(["validate", "-f", str(tmp_path / "flowfleet.yaml"), "--verbose", "--json"])
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert [n["message"] for n in notes] == [err.split("[dev]")[0].split("7:17: ")[1].strip()]


BLOCK_FLOW = """
from prefect import flow
from prefect.blocks.system import Secret


@flow(name="load")
def load(password: Secret, table: str = "t"):
    pass
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{$ref: {block_document_slug: secret/db-password}}", ""),
        ("{$ref: {block_document_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6}}", ""),
        ("{value: s3cr3t}", ""),
        (
            "{$ref: {block_document_slug: db-password}}",
            "{dir}/flowfleet.yaml:8:17: parameter 'password' of flow 'load':"
            ' {"$ref": {"block_document_slug": "db-password"}} is not a block document'
            " reference Prefect can load when the run starts; write"
            ' {"$ref": {"block_document_slug": "BLOCK-TYPE/NAME"}} (e.g. "secret/db-password")'
            ' or {"$ref": {"block_document_id": "UUID"}} [dev]',
        ),
    ],
)
def test_block_parameters_take_block_document_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows/load.py").write_text(textwrap.dedent(BLOCK_FLOW), encoding="utf-8")
    config = tmp_path / "flowfleet.yaml"
    config.write_text(
        "project: shop\nenvironments:\n  dev: {local: true}\ndeployments:\n"
        "  - name: nightly\n    entrypoint: flows/load.py:load\n    parameters:\n"
        f"      password: {value}\n",
        encoding="utf-8",
    )
    code = dispatch(["validate", "-f", str(config)])
    err = capsys.readouterr().err.replace(str(tmp_path), "{dir}")
    assert (code, err.splitlines()[0] if err else "") == (1 if expected else 0, expected)
