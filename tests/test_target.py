"""Where an environment's API is, offline: what resolve_target does without a server,
from the config or from the Prefect settings in force."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowfleet.config.models import Environment
from flowfleet.server.connection import ConnectionError_, resolve_target


def test_a_stopped_local_server_is_only_started_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError_, match="flowfleet server start --env dev"):
        resolve_target(tmp_path, "dev", Environment(local=True), start_local=False)
    assert not (tmp_path / ".flowfleet").exists()  # nothing started, nothing written


def test_an_api_url_is_used_as_given(tmp_path: Path) -> None:
    environment = Environment(api_url="http://prefect:4200/api/")
    target = resolve_target(tmp_path, "prod", environment, start_local=False)
    assert (target.url, target.api_key, target.local) == ("http://prefect:4200/api", None, False)


def profile(home: Path, url: str, key: str | None = None) -> None:
    """An active profile `dev` in `home`/profiles.toml."""
    secret = f'PREFECT_API_KEY = "{key}"\n' if key else ""
    (home / "profiles.toml").write_text(
        f'active = "dev"\n[profiles.dev]\nPREFECT_API_URL = "{url}"\n{secret}'
    )


@pytest.fixture
def prefect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PREFECT_HOME, the current folder empty too (no .env, prefect.toml)."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def test_without_api_url_the_prefect_settings_give_the_server(prefect_home: Path) -> None:
    profile(prefect_home, "http://profile.invalid:4200/api/", "key-from-profile")
    target = resolve_target(prefect_home, "prod", Environment(), start_local=False)
    assert (target.url, target.api_key) == ("http://profile.invalid:4200/api", "key-from-profile")


def test_api_key_env_wins_over_the_settings_key(
    prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(prefect_home, "http://profile.invalid/api", "key-from-profile")
    monkeypatch.setenv("PROD_KEY", "key-from-variable")
    environment = Environment(api_key_env="PROD_KEY")
    target = resolve_target(prefect_home, "prod", environment, start_local=False)
    assert target.api_key == "key-from-variable"


def test_no_url_in_the_settings_says_where_it_looked(prefect_home: Path) -> None:
    with pytest.raises(ConnectionError_) as raised:
        resolve_target(prefect_home, "prod", Environment(), start_local=False)
    assert str(raised.value) == (
        "environment 'prod' has no api_url, and no Prefect setting gives one (not the "
        "environment's PREFECT_API_URL, .env, prefect.toml, pyproject.toml, or Prefect's "
        f"default profile 'ephemeral': there is no {prefect_home / 'profiles.toml'}); set "
        "api_url in the config, export PREFECT_API_URL, or declare the environment "
        "'local: true'"
    )


def test_an_empty_url_in_the_settings_is_an_error_that_names_its_source(
    prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(prefect_home, "http://profile.invalid/api", "key-from-profile")
    monkeypatch.setenv("PREFECT_API_URL", "")
    with pytest.raises(ConnectionError_) as raised:
        resolve_target(prefect_home, "prod", Environment(), start_local=False)
    message = str(raised.value)
    assert "an empty API URL (PREFECT_API_URL in the environment)" in message
    assert "key-from-profile" not in message


def test_plan_finds_the_server_in_a_profile_without_importing_prefect(tmp_path: Path) -> None:
    """`-X importtime` lists every module the command imports: none of Prefect's, and the
    server it tried is the profile's."""
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "hello.py").write_text(
        'from prefect import flow\n\n\n@flow(name="hello")\ndef hello(n: int) -> None:\n'
        "    print(n)\n"
    )
    (tmp_path / "flowfleet.yaml").write_text(
        "project: shop\nenvironments:\n  dev: {}\ndeployments:\n"
        "  - name: daily\n    entrypoint: flows/hello.py:hello\n    parameters: {n: 1}\n"
    )
    home = tmp_path / "prefect-home"
    home.mkdir()
    profile(home, "http://127.0.0.1:9/api")  # the discard port: nothing answers
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFECT_")}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "flowfleet.cli", "plan"],
        cwd=tmp_path,
        env={**env, "PREFECT_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    imported = re.findall(r"^import time:.*\| +([\w.]+)$", result.stderr, re.MULTILINE)
    assert "flowfleet.server.prefect_settings" in imported
    assert [name for name in imported if name.split(".")[0] == "prefect"] == []
    assert "cannot reach http://127.0.0.1:9/api" in result.stderr
    assert result.returncode == 1
