"""`flowfleet import dev.yaml prod.yaml`: per-environment files of the older format become
one flowfleet.yaml whose render of each environment is exactly the old file's render —
for the repository's examples and for generated sets of files."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flowfleet.cli.main import dispatch
from flowfleet.render.validate import RENDER, load_and_validate
from tests.conftest import write_tree
from tests.test_docs import blocks

ROOT = Path(__file__).resolve().parents[1]
FLOWS = (
    "from prefect import flow\n\n\n@flow\ndef one(x=None, y=None, z=None):\n    return 1\n\n\n"
    "@flow\ndef two(x=None, y=None, z=None):\n    return 2\n"
)


def rendered(file: Path, environment: str) -> dict[str, Any]:
    """What `render --env ENV --json` prints, as data."""
    (desired,) = load_and_validate([file], [environment], needs=RENDER)
    deployments = [r.deployment.to_json() for r in desired.deployments]
    return {"project": desired.project, "deployments": deployments}


def test_examples_legacy_files_import_to_the_same_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "legacy"
    shutil.copytree(ROOT / "examples" / "legacy", folder)
    monkeypatch.chdir(folder)
    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    assert capsys.readouterr().out == "wrote flowfleet.yaml: 4 deployment(s) of 2 environment(s)\n"
    for env in ("dev", "prod"):
        assert dispatch(["render", "-f", f"{env}.yaml", "--json"]) == 0
        before = capsys.readouterr().out
        assert dispatch(["render", "--env", env, "--json"]) == 0
        assert capsys.readouterr().out == before, env
    text = (folder / "flowfleet.yaml").read_text()
    config = yaml.safe_load(text)
    assert config["defaults"] == {"tags": ["ingest"], "work_pool": {"name": "default-pool"}}
    assert config["environments"] == {
        "dev": {"overrides": {"tags": ["dev"]}},
        "prod": {"overrides": {"tags": ["prod"]}},
    }
    assert config["deployments"][0]["version"] == "1.4"


def test_migration_page_shows_what_import_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "legacy"  # the project name is the folder's
    shutil.copytree(ROOT / "examples" / "legacy", folder)
    monkeypatch.chdir(folder)
    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    captured = capsys.readouterr()
    (shown,) = blocks("migrating-from-per-environment-files.md", "yaml")
    assert shown == (folder / "flowfleet.yaml").read_text()
    (output,) = blocks("migrating-from-per-environment-files.md", "text")
    assert output == captured.err + captured.out


def test_names_from_name_equals_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "examples" / "legacy", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    assert dispatch(["import", "staging=dev.yaml", "live=prod.yaml", "--project", "p"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert list(config["environments"]) == ["staging", "live"]
    assert config["project"] == "p"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["dev.yaml", "dev=prod.yaml"], "error: environment 'dev' is given twice (dev=prod.yaml)"),
        (
            ["dev.yaml", "new.yaml"],
            "error: new.yaml:1:1: expected a file in the older per-environment format",
        ),
        (
            ["dev.yaml", "bad.yaml"],
            "bad.yaml:4:17: deployments[0].entrypoint: expected a valid string, found the number 3",
        ),
        (["dev.yaml", "sub/prod.yaml"], "error: the files are in different folders"),
    ],
)
def test_user_errors(
    files: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(ROOT / "examples" / "legacy", tmp_path, dirs_exist_ok=True)
    write_tree(
        tmp_path,
        {
            "new.yaml": "environments: {dev: {}}\n",
            "bad.yaml": "ib-block: x\ndeployments:\n  - name: a\n    entrypoint: 3\n"
            "    schedule: {cron: 'not a cron'}\n",
            "sub/prod.yaml": (tmp_path / "prod.yaml").read_text(),
        },
    )
    monkeypatch.chdir(tmp_path)
    assert dispatch(["import", *files]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


# --- the property: any set of valid files renders the same after import ------------------

TEXTS = st.sampled_from(["a", "b", "x-{env}", "${LEGACY_TEST_VAR:-v}", "1.10"])
VALUES = st.sampled_from([1, 1.0, True, "1", None, {"n": 1}, {"n": 1, "m": [2]}, {"m": 1}])
SCHEDULES = st.sampled_from(
    [
        {"cron": "0 * * * *"},
        {"cron": "0 * * * *", "timezone": "Europe/Paris"},
        {"interval": 60},
        {"interval": 60, "anchor-date": "2024-01-01T00:00:00"},
        {"rrule": "FREQ=DAILY", "timezone": "UTC"},
    ]
)
POOLS = st.fixed_dictionaries(  # a queue belongs to a pool: never a queue alone
    {"name": st.sampled_from(["p", "q"])},
    optional={"work_queue_name": st.sampled_from(["w", "v"])},
)
DEPLOYMENT = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["a", "b", "c", "n-{env}"]),
        "entrypoint": st.sampled_from(["flows/f.py:one", "flows/f.py:two"]),
    },
    optional={
        "parameters": st.dictionaries(st.sampled_from(["x", "y", "z"]), VALUES, max_size=3),
        "tags": st.lists(st.sampled_from(["t1", "t2", "t3", "t-{env}"]), max_size=4),
        "schedule": SCHEDULES,
        "version": TEXTS,
        "description": TEXTS,
        "work_pool": POOLS,
        "protected": st.booleans(),
    },
)
FILE = st.lists(DEPLOYMENT, max_size=4, unique_by=lambda d: (d["name"], d["entrypoint"]))
FILES = st.dictionaries(st.sampled_from(["dev", "prod", "qa"]), FILE, min_size=1, max_size=3)
SHARED = {"name": "a", "entrypoint": "flows/f.py:one", "tags": ["t1", "t2"], "version": "1"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES)
@example({"dev": [SHARED, {**SHARED, "name": "b"}], "prod": [{**SHARED, "name": "b"}, SHARED]})
@example({"dev": [{**SHARED, "parameters": {"x": {"n": 1}}}], "prod": [SHARED]})
def test_import_renders_each_environment_as_its_old_file(files: dict[str, list[Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        write_tree(root, {"flows/f.py": FLOWS})
        for env, deployments in files.items():
            head = f"ib-block: ecs-task/{env}\n"
            text = head + yaml.safe_dump({"deployments": deployments}, sort_keys=False)
            (root / f"{env}.yaml").write_text(text)
        before = {env: rendered(root / f"{env}.yaml", env) for env in files}
        arguments = [str(root / f"{env}.yaml") for env in files]
        output = root / "flowfleet.yaml"
        assert dispatch(["import", *arguments, "-o", str(output)]) == 0, output
        for env in files:
            assert rendered(output, env) == before[env], (
                env,
                output.read_text(),
            )


def test_numbers_as_written_and_variables_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = textwrap.dedent(
        """\
        deployments:
          - name: a
            entrypoint: flows/f.py:one
            version: 1.10
            parameters: {x: 0x10, y: "${LEGACY_X}", z: 1.50}
            tags: [TAG]
        """
    )
    write_tree(
        tmp_path,
        {
            "flows/f.py": FLOWS,
            "dev.yaml": deployment.replace("TAG", "d"),
            "prod.yaml": deployment.replace("TAG", "p"),
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEGACY_X", "from the environment")
    assert dispatch(["import", "dev.yaml", "prod.yaml", "-o", "flowfleet.yaml"]) == 0
    text = (tmp_path / "flowfleet.yaml").read_text()
    assert "version: '1.10'" in text
    assert "y: ${LEGACY_X}" in text
    for env in ("dev", "prod"):
        assert rendered(tmp_path / "flowfleet.yaml", env) == rendered(tmp_path / f"{env}.yaml", env)
