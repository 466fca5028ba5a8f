"""`flowfleet import` reads what Prefect reads (issue 13): duplicate keys (the last wins),
run-time placeholders in job variables, schedule keys Prefect 3 refuses, absolute
entrypoints, missing pull steps."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree

FLOW = "from prefect import flow\n\n\n@flow\ndef a(days: int = 1):\n    pass\n"
PULL = "pull:\n- prefect.deployments.steps.set_working_directory:\n    directory: /opt/prefect\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"flows/a.py": FLOW})
    return tmp_path


def import_(project: Path, source: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    write_tree(project, {"prefect.yaml": dedent(source)})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    err = capsys.readouterr().err
    return yaml.safe_load((project / "flowfleet.yaml").read_text()), err


def test_duplicate_keys_keep_the_last_value_and_warn_at_both(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = PULL + dedent(
        """\
        deployments:
        - name: a
          entrypoint: flows/a.py:a
          parameters: {days: 1, days: 2}
          tags: [x]
          tags: [y]
        """
    )
    config, err = import_(project, source, capsys)
    with (project / "prefect.yaml").open() as stream:
        prefect_reads = yaml.safe_load(stream)["deployments"][0]  # what Prefect reads
    [entry] = config["deployments"]
    assert entry["parameters"] == prefect_reads["parameters"] == {"days": 2}
    assert entry["tags"] == prefect_reads["tags"] == ["y"]
    assert err.splitlines() == [
        "prefect.yaml:7:16: warning: duplicate key 'days' (given again on line 7): Prefect"
        " keeps the last value, so the import does too and leaves this one out; remove one"
        " of them",
        "prefect.yaml:7:25: warning: duplicate key 'days' (first on line 7): this last value is"
        " the one Prefect reads, and the one imported",
        "prefect.yaml:8:3: warning: duplicate key 'tags' (given again on line 9): Prefect keeps"
        " the last value, so the import does too and leaves this one out; remove one of them",
        "prefect.yaml:9:3: warning: duplicate key 'tags' (first on line 8): this last value is"
        " the one Prefect reads, and the one imported",
    ]
    assert dispatch(["validate"]) == 0


def test_flowfleet_config_still_refuses_duplicate_keys(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(
        project,
        {
            "flowfleet.yaml": "environments: {dev: {local: true}}\ndeployments:\n"
            "- {name: a, entrypoint: flows/a.py:a, name: b}\n"
        },
    )
    assert dispatch(["validate"]) == 1
    assert "duplicate key 'name'" in capsys.readouterr().err


def test_run_time_placeholders_in_job_variables_are_kept_silently(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = PULL + dedent(
        """\
        deployments:
        - name: a
          entrypoint: flows/a.py:a
          work_pool:
            name: ecs
            job_variables:
              env:
                TOKEN: "{{ prefect.blocks.secret.api-token }}"
                STAGE: "{{ prefect.variables.stage }}"
        """
    )
    config, err = import_(project, source, capsys)
    env = config["deployments"][0]["work_pool"]["job_variables"]["env"]
    assert env == {
        "TOKEN": "{{ prefect.blocks.secret.api-token }}",
        "STAGE": "{{ prefect.variables.stage }}",
    }
    assert err == ""
    assert dispatch(["validate"]) == 0


def test_schedule_keys_prefect_3_refuses(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = PULL + dedent(
        """\
        deployments:
        - name: a
          entrypoint: flows/a.py:a
          schedules:
          - {cron: "0 0 * * *", max_active_runs: 1, catchup: false}
        """
    )
    _, err = import_(project, source, capsys)
    assert err.splitlines() == [
        f"prefect.yaml:8:{column}: warning: '{key}' left out: a Prefect 2 schedule setting;"
        " Prefect 3 refuses the whole file with it (prefect deploy: 'Invalid fields in"
        " deployments ... Skipping', exit 1)"
        for key, column in (("max_active_runs", 25), ("catchup", 45))
    ]


def test_absolute_entrypoint_and_missing_pull_steps_are_warned(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = """\
        deployments:
        - name: a
          entrypoint: /home/me/shop/flows/a.py:a
        """
    _, err = import_(project, source, capsys)
    assert err.splitlines() == [
        "prefect.yaml:3:15: warning: entrypoint '/home/me/shop/flows/a.py:a' is an absolute"
        " path of the machine prefect deploy ran on; flowfleet needs it relative to the"
        " project folder (the folder of flowfleet.yaml): rewrite it, e.g."
        " 'flows/etl.py:my_flow'",
        "prefect.yaml:2:3: warning: deployment 'a' has no pull steps; prefect deploy would"
        " store set_working_directory to the folder it ran in (/opt/prefect/<folder> if it"
        " built an image), a path of that machine, so none is written: add pull_steps (e.g."
        " set_working_directory to where the worker has the code), or a worker cannot find"
        " the flow file",
    ]
