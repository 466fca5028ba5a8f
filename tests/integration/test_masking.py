"""Values of `job_variables.env` entries named in `secret_env` never appear in any output
(plan in every format, saved plan files, apply, render, render --jobs, diff), while the
server receives the real values and a changed secret still shows as a change."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.faults.figures import record
from tests.integration.conftest import Project, read_deployment

pytestmark = pytest.mark.xdist_group("servers")

SECRET = "s3cr3t-Pa55word-XYZ"
ROTATED = "r0tat3d-Pa55word-QRS"
PROD_SECRET = "pr0d-Pa55word-LMN"
BLOCK_SECRET = "bl0ck-Pa55word-UVW"
SECRETS = (SECRET, ROTATED, PROD_SECRET, BLOCK_SECRET)

CONFIG = """
work_pools:
  POOL: {type: process}
blocks:
  creds-SUFFIX: {type: secret, fields: {value: "${FF_BLOCK_SECRET}"}}
defaults:
  secret_env: [DB_PASSWORD]
deployments:
  - name: etl
    entrypoint: flows/main.py:main
    work_pool:
      name: POOL
      job_variables:
        env: {DB_PASSWORD: "${FF_DB_PASSWORD}", LOG_LEVEL: debug}
    environments:
      dev: {}
      prod:
        work_pool: {job_variables: {env: {DB_PASSWORD: "${FF_PROD_DB_PASSWORD}"}}}
"""


@pytest.fixture
def config(project: Project, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FF_DB_PASSWORD", SECRET)
    monkeypatch.setenv("FF_PROD_DB_PASSWORD", PROD_SECRET)
    monkeypatch.setenv("FF_BLOCK_SECRET", BLOCK_SECRET)
    suffix = uuid.uuid4().hex[:8]
    text = CONFIG.replace("POOL", f"mask-{suffix}").replace("SUFFIX", suffix)
    return project.write(text)


def output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """stdout and stderr of one command (which must succeed)."""
    code = dispatch(list(args))
    captured = capsys.readouterr()
    assert code in (0, 2), captured.err
    return captured.out + captured.err


CHECKED: list[int] = []  # outputs checked for secrets (a figure of docs/reliability.md)


def assert_masked(text: str, *, shows_values: bool = True) -> None:
    CHECKED.append(1)
    for secret in SECRETS:
        assert secret not in text
    assert "***" in text or not shows_values


def test_secret_env_is_masked_everywhere_but_reaches_the_server(
    project: Project,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    f = ["-f", str(config)]
    for extra in ([], ["--json"], ["--jobs"], ["--jobs", "--json"]):
        assert_masked(output(capsys, "render", *f, "--env", "dev", *extra))
    diff = output(capsys, "diff", *f, "dev", "prod")
    assert_masked(diff)
    assert 'job_variables: dev={"env": {"DB_PASSWORD": "***"' in diff
    assert '"DB_PASSWORD": "*** (changed)"' in diff
    assert_masked(output(capsys, "diff", *f, "dev", "prod", "--json"))

    applied = output(capsys, "apply", *f, "--env", "dev", "--yes")
    assert SECRET not in applied and BLOCK_SECRET not in applied
    deployment = read_deployment(project.servers.url("dev"), project.flow, "etl")
    assert deployment is not None
    assert deployment["job_variables"]["env"] == {"DB_PASSWORD": SECRET, "LOG_LEVEL": "debug"}

    monkeypatch.setenv("FF_DB_PASSWORD", ROTATED)  # the secret is rotated
    text = output(capsys, "plan", *f, "--env", "dev", "--detailed-exitcode")
    assert_masked(text)
    assert f"~ {project.flow}/etl  update" in text
    assert '"DB_PASSWORD": "*** (changed)"' in text
    markdown = output(capsys, "plan", *f, "--env", "dev", "--format", "markdown")
    assert_masked(markdown, shows_values=False)  # field names only
    assert "update: `job_variables`" in markdown
    plan_json = output(capsys, "plan", *f, "--env", "dev", "--json")
    assert_masked(plan_json)
    saved = tmp_path / "plan.json"
    output(capsys, "plan", *f, "--env", "dev", "--out", str(saved))
    assert_masked(saved.read_text())
    [env] = json.loads(saved.read_text())["environments"]
    [change] = [c for c in env["changes"] if c["action"] == "update"]
    assert change["fields"][0]["new"]["env"]["DB_PASSWORD"] == "*** (changed)"

    assert_masked(output(capsys, "apply", str(saved)))
    deployment = read_deployment(project.servers.url("dev"), project.flow, "etl")
    assert deployment is not None
    assert deployment["job_variables"]["env"]["DB_PASSWORD"] == ROTATED
    record("masking", {"outputs_checked": len(CHECKED), "leaks": 0})
