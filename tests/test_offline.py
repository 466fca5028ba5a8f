"""Offline means offline (issue 11, point 6): which unset `${VAR}`s each command needs.

- a variable used only to connect (an environment's `api_url`, the variable named by
  `api_key_env`) is needed by plan, apply and run only: validate, render and diff say
  nothing about it;
- a variable that shapes what gets deployed is a warning in validate and an error in
  render, diff, plan and apply.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.errors import ValidationFailed
from flowfleet.render.validate import CONNECT, load_and_validate
from tests.conftest import write_tree

ROOT = Path(__file__).resolve().parents[1]
FLOWFLEET = Path(sys.executable).parent / "flowfleet"  # the installed console script

HELLO = (
    'from prefect import flow\n\n\n@flow(name="hello")\n'
    "def hello(number: int, name: str) -> None:\n    print(name * number)\n"
)
CONFIG = """\
project: shop
environments:
  dev:
    api_url: "${OFF_DEV_API_URL}"
    api_key_env: OFF_DEV_API_KEY
  prod:
    api_url: "https://${OFF_PROD_HOST}/api"
deployments:
  - name: daily
    entrypoint: flows/hello.py:hello
    parameters: {number: 1, name: world}
    tags: ["${OFF_TAG:-nightly}"]
    work_pool:
      name: pool
      job_variables: {image: "${OFF_IMAGE}"}
"""
VARIABLES = ("OFF_DEV_API_URL", "OFF_DEV_API_KEY", "OFF_PROD_HOST", "OFF_TAG", "OFF_IMAGE")
CONNECTION = {
    "OFF_DEV_API_URL": "http://127.0.0.1:9/api",  # the discard port: nothing answers
    "OFF_DEV_API_KEY": "not-a-real-key",
    "OFF_PROD_HOST": "127.0.0.1:9",
}
WARNING = (
    "{f}:15:30: warning: environment variable 'OFF_IMAGE' is not set and has no default; "
    "validated without it, but render, plan and apply need it: set it, or write "
    "${{OFF_IMAGE:-default}} [{envs}]\n"
)
IMAGE_ERROR = (
    "{f}:15:30: environment variable 'OFF_IMAGE' is not set and has no default; set it, "
    "or write ${{OFF_IMAGE:-default}} [{envs}]\n"
)
URL_ERROR = (
    "{f}:4:14: environment variable 'OFF_DEV_API_URL' is not set and has no default; "
    "environment 'dev' needs it to connect to its server (api_url): set it before plan, "
    "apply or run [dev]\n"
)
KEY_ERROR = (
    "{f}:5:18: environment variable 'OFF_DEV_API_KEY' (api_key_env) is not set; "
    "environment 'dev' needs it to connect to its server: export it with the API key "
    "(the key itself never goes in the config) [dev]\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config above with none of its variables set, as the current folder."""
    write_tree(tmp_path, {"flowfleet.yaml": CONFIG, "flows/hello.py": HELLO})
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "flowfleet.yaml"


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = dispatch(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def set_all(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


# validate


def test_validate_warns_about_what_shapes_deployments_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(["validate"], capsys)
    assert err == WARNING.format(f="flowfleet.yaml", envs="dev, prod")
    assert out == "ok  flowfleet.yaml  dev: 1 deployment\nok  flowfleet.yaml  prod: 1 deployment\n"
    assert code == 0


def test_validate_says_nothing_about_connection_variables(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_all(monkeypatch, OFF_IMAGE="shop:1")
    assert cli(["validate"], capsys) == (
        0,
        "ok  flowfleet.yaml  dev: 1 deployment\nok  flowfleet.yaml  prod: 1 deployment\n",
        "",
    )


def test_validate_json_lists_the_warnings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code, out, err = cli(["validate", "--json"], capsys)
    assert code == 0
    assert err == WARNING.format(f="flowfleet.yaml", envs="dev, prod")
    assert json.loads(out)["warnings"] == [
        {
            "file": "flowfleet.yaml",
            "line": 15,
            "column": 30,
            "message": "environment variable 'OFF_IMAGE' is not set and has no default; "
            "validated without it, but render, plan and apply need it: set it, or write "
            "${OFF_IMAGE:-default}",
            "environments": ["dev", "prod"],
        }
    ]


def test_validate_shows_the_warnings_beside_the_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_text(CONFIG.replace("number: 1", "number: one"))
    code, out, err = cli(["validate", "--env", "dev"], capsys)
    assert code == 1
    assert out == ""
    assert err.startswith(WARNING.format(f="flowfleet.yaml", envs="dev"))
    assert err.endswith("1 problem found; nothing was changed.\n")


def test_a_value_that_depends_on_an_unset_variable_is_not_checked_offline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`number: "${N}"` is not an integer only because N is not set: one warning."""
    project.write_text(CONFIG.replace("number: 1", 'number: "${OFF_NUMBER}"'))
    code, _, err = cli(["validate", "--env", "dev"], capsys)
    assert err == (
        "flowfleet.yaml:11:26: warning: environment variable 'OFF_NUMBER' is not set and has "
        "no default; validated without it, but render, plan and apply need it: set it, or "
        "write ${OFF_NUMBER:-default} [dev]\n" + WARNING.format(f="flowfleet.yaml", envs="dev")
    )
    assert code == 0


# render and diff: offline, but they show what gets deployed


def test_render_needs_what_shapes_deployments_not_the_connection(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["render", "--env", "dev"], capsys) == (
        1,
        "",
        IMAGE_ERROR.format(f="flowfleet.yaml", envs="dev")
        + "1 problem found; nothing was changed.\n",
    )
    set_all(monkeypatch, OFF_IMAGE="shop:1")
    code, out, err = cli(["render", "--env", "dev", "--json"], capsys)
    assert (code, err) == (0, "")
    assert '"image": "shop:1"' in out


def test_diff_needs_what_shapes_deployments_not_the_connection(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["diff", "dev", "prod"], capsys)
    assert (code, err) == (
        1,
        IMAGE_ERROR.format(f="flowfleet.yaml", envs="dev, prod")
        + "1 problem found; nothing was changed.\n",
    )
    set_all(monkeypatch, OFF_IMAGE="shop:1")
    assert cli(["diff", "dev", "prod"], capsys) == (
        0,
        "dev and prod declare the same deployments.\n",
        "",
    )


# plan, apply, run: they connect


@pytest.mark.parametrize(
    "argv",
    [["plan", "--env", "dev"], ["apply", "--env", "dev", "--yes"], ["destroy", "--env", "dev"]],
    ids=["plan", "apply", "destroy"],
)
def test_commands_that_connect_need_every_variable_before_any_request(
    argv: list[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if argv[0] == "destroy":
        argv = [*argv, "--preview", "pr-1", "--yes"]
    destroy = argv[0] == "destroy"  # deletes a preview: what it deployed does not matter
    code, out, err = cli(argv, capsys)
    warning = WARNING.format(f="flowfleet.yaml", envs="dev") if destroy else ""
    shaping = "" if destroy else IMAGE_ERROR.format(f="flowfleet.yaml", envs="dev")
    assert (code, out) == (1, "")
    assert err == (
        warning
        + URL_ERROR.format(f="flowfleet.yaml")
        + KEY_ERROR.format(f="flowfleet.yaml")
        + shaping
        + f"{'2' if destroy else '3'} problems found; nothing was changed.\n"
    )


def test_plan_names_the_unset_key_variable_alone(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    set_all(monkeypatch, OFF_DEV_API_URL=CONNECTION["OFF_DEV_API_URL"], OFF_IMAGE="shop:1")
    assert cli(["plan", "--env", "dev"], capsys) == (
        1,
        "",
        KEY_ERROR.format(f="flowfleet.yaml") + "1 problem found; nothing was changed.\n",
    )


def test_plan_of_one_environment_needs_only_its_own_connection(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prod's variables are set, dev's are not and are not asked for."""
    set_all(monkeypatch, OFF_PROD_HOST=CONNECTION["OFF_PROD_HOST"], OFF_IMAGE="shop:1")
    [desired] = load_and_validate([project], ["prod"], needs=CONNECT)
    assert desired.loaded.config.environments["prod"].api_url == "https://127.0.0.1:9/api"
    with pytest.raises(ValidationFailed):
        load_and_validate([project], ["dev"], needs=CONNECT)


def test_run_needs_the_connection_variables(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", "hello/daily", "--env", "dev"], capsys) == (
        1,
        "",
        URL_ERROR.format(f="flowfleet.yaml")
        + KEY_ERROR.format(f="flowfleet.yaml")
        + "2 problems found; nothing was changed.\n",
    )


def test_a_local_environment_needs_no_key(project: Path) -> None:
    """`local: true` ignores api_key_env, so its variable is not asked for."""
    project.write_text(
        CONFIG.replace('    api_url: "${OFF_DEV_API_URL}"\n', "    local: true\n")
        .replace('    api_url: "https://${OFF_PROD_HOST}/api"\n', "    local: true\n")
        .replace('"${OFF_IMAGE}"', '"${OFF_IMAGE:-shop:1}"')
    )
    assert len(load_and_validate([project], needs=CONNECT)) == 2


# a new repository, as a user runs it: the real command, nothing set


def clean_environ(prefect_home: Path) -> dict[str, str]:
    """The process environment without any Prefect setting, image or API variable."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PREFECT_") and name != "IMAGE" and "_API_" not in name
    }
    environ["PREFECT_HOME"] = str(prefect_home)
    environ["PATH"] = f"{FLOWFLEET.parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def flowfleet(
    argv: list[str], cwd: Path, environ: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, check=False)


def hook_entry() -> list[str]:
    [hook] = [
        h
        for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
        if h["id"] == "flowfleet-validate"
    ]
    assert hook["pass_filenames"] is False  # the entry is run as it is
    return shlex.split(hook["entry"])


@pytest.mark.parametrize("with_flow", [False, True], ids=["no-flows", "one-flow"])
def test_init_then_validate_in_a_new_repository_with_nothing_set(
    with_flow: bool, tmp_path: Path
) -> None:
    repo = tmp_path / "shop"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    if with_flow:
        write_tree(
            repo,
            {"flows/hello.py": "from prefect import flow\n\n\n@flow\ndef hello():\n    pass\n"},
        )
    environ = clean_environ(tmp_path / "prefect-home")
    assert not {n for n in environ if n.startswith("PREFECT_") and n != "PREFECT_HOME"}

    init = flowfleet([str(FLOWFLEET), "init"], repo, environ)
    assert init.returncode == 0, init.stderr

    count = 1 if with_flow else 0
    ok = "".join(
        f"ok  flowfleet.yaml  {env}: {count} deployment{'' if count == 1 else 's'}\n"
        for env in ("dev", "prod")
    )
    warning = WARNING.replace("OFF_IMAGE", "IMAGE").format(f="flowfleet.yaml", envs="dev, prod")
    for argv in ([str(FLOWFLEET), "validate"], hook_entry()):
        result = flowfleet(argv, repo, environ)
        assert (result.returncode, result.stdout) == (0, ok), result.stderr
        assert result.stderr == warning.replace(":15:30:", ":40:14:")


def test_the_python_api_needs_what_the_command_line_needs(project: Path) -> None:
    import flowfleet.sdk as ff

    config = ff.load(project)
    assert ff.validate(config) == []
    with pytest.raises(ValidationFailed) as failed:
        ff.render(config, "dev")
    assert [str(p) for p in failed.value.problems] == [
        IMAGE_ERROR.format(f=project, envs="dev").rstrip("\n")
    ]
