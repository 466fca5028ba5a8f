"""The YAML flowfleet writes carries the yaml-language-server schema comment, and the schema
it names accepts the file (what an editor would check)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.commands.schema import config_schema

COMMENT = "# yaml-language-server: $schema=flowfleet.schema.json\n"
PREFECT_YAML = """\
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    schedule: {cron: "0 1 * * *"}
    work_pool: {name: pool}
"""


def check_for_editors(config: Path) -> None:
    text = config.read_text()
    assert text.startswith(COMMENT)
    jsonschema.validate(yaml.safe_load(text), config_schema())


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "etl.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef etl(days: int = 1) -> None:\n    pass\n"
    )
    return tmp_path


def test_init_writes_the_schema_comment(repository: Path) -> None:
    assert dispatch(["init", str(repository)]) == 0
    check_for_editors(repository / "flowfleet.yaml")


def test_import_writes_the_schema_comment(
    repository: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repository)
    (repository / "prefect.yaml").write_text(PREFECT_YAML)
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    check_for_editors(repository / "flowfleet.yaml")
    capsys.readouterr()
    assert dispatch(["import", "prefect.yaml"]) == 0  # to stdout: the same text
    assert capsys.readouterr().out == (repository / "flowfleet.yaml").read_text()


def test_the_schema_does_reject_what_validate_rejects(tmp_path: Path) -> None:
    config = tmp_path / "flowfleet.yaml"
    config.write_text(COMMENT + "environments: {dev: {}}\ndeployment: []\n")
    with pytest.raises(jsonschema.ValidationError, match="'deployment' was unexpected"):
        check_for_editors(config)
