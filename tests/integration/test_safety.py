"""Nothing is written anywhere when any selected environment is invalid; the older
format applies through the Prefect settings in force."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Project, deployments_of, read_deployment

pytestmark = pytest.mark.xdist_group("servers")


def test_invalid_environment_blocks_every_write(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write(
        """
deployments:
  - name: good
    entrypoint: flows/main.py:main
  - name: bad-in-prod
    entrypoint: flows/main.py:main
    environments:
      dev: {}
      prod: {parameters: {number: not-a-number}}
"""
    )
    code = dispatch(["apply", "-f", str(project.config), "--env", "dev", "--env", "prod", "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert "parameter 'number'" in err and "[prod]" in err
    for env in ("dev", "prod"):
        assert deployments_of(project.servers.url(env), project.flow) == []


@pytest.mark.parametrize("settings", ["environment", "profile"])
def test_legacy_file_applies_through_prefect_api_url(
    settings: str,
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A file without api_url goes to the server of the Prefect settings in force: from
    PREFECT_API_URL, or from the active profile (read without importing Prefect)."""
    legacy = project.root / "prod.yaml"
    legacy.write_text(
        "ib-block: ecs-task/prod\n"
        "deployments:\n"
        "  - name: legacy\n"
        "    entrypoint: flows/main.py:main\n"
        "    parameters: {number: 5}\n"
        "    schedule: {cron: '*/5 * * * *', timezone: UTC}\n"
        "    tags: [old]\n"
        "    version: '2'\n"
        "    work_pool: {name: shared-pool, work_queue_name: prod}\n"
    )
    if settings == "environment":
        monkeypatch.setenv("PREFECT_API_URL", project.servers.url("prod"))
    else:
        home = Path(os.environ["PREFECT_HOME"])  # a throwaway one (tests/conftest.py)
        (home / "profiles.toml").write_text(
            f'active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "{project.servers.url("prod")}"\n'
        )

    assert dispatch(["apply", "-f", str(legacy), "--yes"]) == 0
    err = capsys.readouterr().err
    assert "warning: 'ib-block'" in err
    d = read_deployment(project.servers.url("prod"), project.flow, "legacy")
    assert d is not None
    assert d["parameters"] == {"number": 5}
    assert d["work_pool_name"] == "shared-pool" and d["work_queue_name"] == "prod"
    assert [s["schedule"]["cron"] for s in d["schedules"]] == ["*/5 * * * *"]
    assert f"flowfleet:{project.root.name}/prod" in d["tags"]
    assert deployments_of(project.servers.url("dev"), project.flow) == []
    assert dispatch(["plan", "-f", str(legacy), "--detailed-exitcode"]) == 0
