"""Connections: API keys never show, an unreachable server is a one-line error."""

from __future__ import annotations

import socket

import pytest

from flowfleet.cli.main import dispatch
from tests.integration.conftest import Project

pytestmark = pytest.mark.xdist_group("servers")

SECRET = "pnu_flowfleet_test_secret_0123456789"
ONE = "deployments:\n  - {name: keyed, entrypoint: flows/main.py:main}\n"


def _header(url: str) -> str:
    return f"project: keyed\nenvironments:\n  dev: {{api_url: '{url}', api_key_env: FF_TEST_KEY}}\n"


def test_api_key_is_sent_but_never_printed(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FF_TEST_KEY", SECRET)
    project.write(ONE, header=_header(project.servers.url("dev")))
    for args in (["plan", "--json"], ["apply", "--yes"], ["plan"], ["--debug", "apply", "--yes"]):
        assert dispatch([*args, "-f", str(project.config)]) == 0
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


def test_missing_key_variable_is_a_clear_error(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FF_TEST_KEY", raising=False)
    header = _header(project.servers.url("dev"))
    project.write(ONE, header=header)
    column = header.splitlines()[2].index("FF_TEST_KEY") + 1
    assert dispatch(["plan", "-f", str(project.config)]) == 1
    assert capsys.readouterr().err == (
        f"{project.config}:3:{column}: environment variable 'FF_TEST_KEY' (api_key_env) is not "
        "set; environment 'dev' needs it to connect to its server: export it with the API key "
        "(the key itself never goes in the config) [dev]\n"
        "1 problem found; nothing was changed.\n"
    )


def test_unreachable_server_is_one_line_naming_environment_and_url(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    monkeypatch.setenv("FF_TEST_KEY", SECRET)
    project.write(ONE, header=_header(url))
    assert dispatch(["apply", "-f", str(project.config), "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: environment 'dev': cannot reach {url} (ConnectError")
    assert err.count("\n") == 1
    assert SECRET not in err
