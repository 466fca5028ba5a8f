"""From a real Prefect 2.20 server to flowfleet on Prefect 3 (`make test-compat`).

FLOWFLEET_PREFECT2_PYTHON names the Prefect 2 environment's interpreter (compat/prefect-2.txt:
prefect 2.20, prefect-aws 0.4). Two Prefect 2 servers (dev and prod) get the legacy state
the old way (tests/legacy_blocks/old_deploy.py: block types registered, the ECSTask blocks
saved by running the block file, `prefect deployment build ... -ib ecs-task/<env> --apply`
per entry of examples/legacy's files). Then three proofs:
- `export` of each + `apply` to a Prefect 3 server: each deployment equal field by field;
- `render --jobs` of the new pool = what the old ECSTask prepares (prefect-aws 0.4's own
  code, run in the Prefect 2 environment) and its `generate_work_pool_base_job_template()`;
- the offline path (`import dev.yaml prod.yaml --blocks`) = the server path, both the
  export and `import --from-server` (the blocks alone, from each environment's server).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.server.local import LocalServer, ServerInfo
from tests.integration.conftest import Servers, api, read_deployment
from tests.test_docs import blocks

PYTHON2 = os.environ.get("FLOWFLEET_PREFECT2_PYTHON", "")
pytestmark = [
    pytest.mark.xdist_group("servers"),
    pytest.mark.skipif(not PYTHON2, reason="needs FLOWFLEET_PREFECT2_PYTHON (make test-compat)"),
]
REPO = Path(__file__).resolve().parents[2]
BLOCKS = REPO / "tests" / "legacy_blocks"
ENVS = ("dev", "prod")


class Prefect2Server(LocalServer):
    def server_environment(self) -> dict[str, str]:
        env = super().server_environment()  # Prefect 2 names its database setting this way
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = env["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
        env["PREFECT_UI_ENABLED"] = "false"
        return env


@dataclass
class Legacy:
    project: Path  # examples/legacy with the block file in infrastructure/
    servers: dict[str, ServerInfo]

    def run2(self, script: str, *args: str, env: str) -> str:
        """A script of tests/legacy_blocks in the Prefect 2 environment, against env's server."""
        settings = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        settings.update(
            PREFECT_API_URL=self.servers[env].api_url,
            PREFECT_HOME=str(self.project.parent / f"home-{env}"),
            DO_NOT_TRACK="1",
        )
        settings.pop("IMAGE", None)
        done = subprocess.run(
            [PYTHON2, "-W", "ignore", str(BLOCKS / script), *args],
            cwd=self.project,
            env=settings,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("prefect2")
    project = root / "project"
    shutil.copytree(REPO / "examples" / "legacy", project)
    (project / "infrastructure").mkdir()
    shutil.copy(BLOCKS / "ecs_task.py", project / "infrastructure" / "ecs_task.py")
    # Prefect 2 has no `python -m prefect`: a shim runs its CLI for LocalServer's command
    shim = root / "prefect2"
    shim.write_text(
        f'#!/bin/sh\nshift 2\nexec "{PYTHON2}" -c "from prefect.cli import app; app()" "$@"\n'
    )
    shim.chmod(0o755)
    # (and no --no-services: its services run)
    local = {env: Prefect2Server(root, env, python=str(shim), ui=False) for env in ENVS}
    try:
        with ThreadPoolExecutor(2) as pool:
            started = list(pool.map(lambda s: s.start(), local.values()))
            found = Legacy(project, dict(zip(ENVS, started, strict=True)))
            block_file = "infrastructure/ecs_task.py"
            list(
                pool.map(
                    lambda e: found.run2("old_deploy.py", block_file, f"{e}.yaml", env=e), ENVS
                )
            )
        yield found
    finally:
        for server in local.values():
            server.stop()


def export(legacy: Legacy, env: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    url = legacy.servers[env].api_url
    capsys.readouterr()
    out = legacy.project / f"exported-{env}.yaml"
    assert (
        dispatch(
            [
                "export",
                "--env",
                env,
                "--api-url",
                url,
                "--project",
                "ingest",
                "-o",
                str(out),
                "--force",
            ]
        )
        == 0
    )
    return yaml.safe_load(out.read_text())  # type: ignore[no-any-return]


def test_the_prefect_2_servers_hold_the_legacy_state(legacy: Legacy) -> None:
    for env in ENVS:
        url = legacy.servers[env].api_url
        assert api(url, "GET", "/admin/version").startswith("2.20.")
        found = api(url, "POST", "/deployments/filter", {})
        assert sorted(d["name"] for d in found) == ["ingest-customers", "ingest-orders"]
        assert all(d["infrastructure_document_id"] for d in found)


def test_export_then_apply_to_prefect_3_keeps_every_field(
    legacy: Legacy,
    servers: Servers,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IMAGE", raising=False)
    for env in ENVS:
        config = export(legacy, env, capsys)
        config["environments"][env] = {"api_url": servers.url(env)}
        path = legacy.project / f"to-prefect3-{env}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        args = ["-f", str(path), "--env", env, "--project", f"p2-{env}", "--yes"]
        assert dispatch(["apply", *args]) == 0, capsys.readouterr()
        old_url = legacy.servers[env].api_url
        for old in api(old_url, "POST", "/deployments/filter", {}):
            new = read_deployment(servers.url(env), "ingest", old["name"])
            assert new is not None
            same = ("name", "entrypoint", "parameters", "version", "description", "work_queue_name")
            assert {k: new[k] for k in same} == {k: old[k] for k in same}
            assert [t for t in new["tags"] if not t.startswith("flowfleet:")] == old["tags"]
            assert [_instant(s["schedule"]) for s in new["schedules"]] == [
                _schedule(old["schedule"])
            ]
            assert new["job_variables"] == old["infra_overrides"]
            assert new["work_pool_name"] == f"ecs-{env}"
        block = api(
            old_url,
            "POST",
            "/block_documents/filter",
            {"block_types": {"slug": {"any_": ["ecs-task"]}}},
        )
        data = next(b["data"] for b in block if b["name"] == env)
        pool = api(servers.url(env), "GET", f"/work_pools/ecs-{env}")
        defaults = {
            k: v.get("default")
            for k, v in pool["base_job_template"]["variables"]["properties"].items()
        }
        for key in (
            "image",
            "cpu",
            "memory",
            "cluster",
            "vpc_id",
            "execution_role_arn",
            "task_role_arn",
            "env",
            "family",
        ):
            if data.get(key) is not None:
                assert defaults[key] == data[key], key
        assert defaults["configure_cloudwatch_logs"] is True


def _schedule(old: dict[str, Any]) -> dict[str, Any]:
    """How a Prefect 3 server stores the same schedule."""
    return _instant({**old, "timezone": old.get("timezone") or "UTC"})


def _instant(schedule: dict[str, Any]) -> dict[str, Any]:
    """An anchor date as the instant it is (servers write the same one differently); an
    rrule without DTSTART, which a Prefect 3 server stores with its default one."""
    if schedule.get("rrule", "").startswith("DTSTART:20200101T000000\n"):
        schedule = {**schedule, "rrule": schedule["rrule"].split("\n", 1)[1]}
    if schedule.get("anchor_date"):
        moment = datetime.fromisoformat(schedule["anchor_date"].replace("Z", "+00:00"))
        schedule = {**schedule, "anchor_date": moment.replace(tzinfo=moment.tzinfo or UTC)}
    return schedule


def render_jobs(config: Path, env: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert dispatch(["render", "-f", str(config), "--env", env, "--jobs", "--json"]) == 0
    return {j["deployment"]: j for j in json.loads(capsys.readouterr().out)["jobs"]}


def test_render_jobs_matches_what_the_old_ecs_task_prepares(
    legacy: Legacy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMAGE", raising=False)
    for env in ENVS:
        config = export(legacy, env, capsys)
        path = legacy.project / f"render-{env}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        job = render_jobs(path, env, capsys)["ingest/ingest-orders"]["ecs"]
        old = json.loads(legacy.run2("old_task.py", env, env=env).strip().splitlines()[-1])
        ours_td, theirs_td = job["task_definition"], old["task_definition"]
        ours_c, theirs_c = ours_td["containerDefinitions"][0], theirs_td["containerDefinitions"][0]
        assert ours_c["image"] == theirs_c["image"]
        if theirs_td["family"] != "prefect":  # set by the block; else each its default
            assert ours_td["family"] == theirs_td["family"]
        for key in (
            "cpu",
            "memory",
            "executionRoleArn",
            "networkMode",
            "requiresCompatibilities",
        ):
            assert ours_td.get(key) == theirs_td.get(key), key
        for key in ("logDriver",):
            assert ours_c["logConfiguration"][key] == theirs_c["logConfiguration"][key]
        for key in ("awslogs-group", "awslogs-create-group"):
            assert (
                ours_c["logConfiguration"]["options"][key]
                == theirs_c["logConfiguration"]["options"][key]
            ), key
        ours_rq, theirs_rq = job["run_task_request"], old["run_task_request"]
        for key in ("cluster", "launchType", "capacityProviderStrategy", "networkConfiguration"):
            assert ours_rq.get(key) == theirs_rq.get(key), key
        assert ours_rq["overrides"]["taskRoleArn"] == theirs_rq["overrides"]["taskRoleArn"]
        ours_env = {
            e["name"]: e["value"]
            for e in ours_rq["overrides"]["containerOverrides"][0]["environment"]
        }
        theirs_env = {
            e["name"]: e["value"]
            for e in theirs_rq["overrides"]["containerOverrides"][0]["environment"]
        }
        block_env = {k: v for k, v in theirs_env.items() if not k.startswith("PREFECT")}
        assert block_env and {k: ours_env[k] for k in block_env} == block_env
        assert "PREFECT__FLOW_RUN_ID" in ours_env
        # Prefect's own mapping of the block to a pool template: the same defaults
        theirs_vars = old["template"]["variables"]["properties"]
        ours_vars = config["work_pools"][f"ecs-{env}"]["job_variables"]
        for key, value in ours_vars.items():
            assert theirs_vars[key].get("default") == value, key


def test_the_offline_import_gives_the_config_of_the_server_path(
    legacy: Legacy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMAGE", raising=False)
    monkeypatch.chdir(legacy.project)
    offline = legacy.project / "offline.yaml"
    assert (
        dispatch(
            [
                "import",
                "dev.yaml",
                "prod.yaml",
                "--blocks",
                "infrastructure",
                "-o",
                str(offline),
                "--force",
            ]
        )
        == 0
    )
    for env in ENVS:
        server_path = legacy.project / f"server-{env}.yaml"
        server_path.write_text(yaml.safe_dump(export(legacy, env, capsys), sort_keys=False))
        ours, theirs = render_jobs(offline, env, capsys), render_jobs(server_path, env, capsys)
        assert sorted(ours) == sorted(theirs)
        for name in ours:
            assert ours[name]["work_pool"] == theirs[name]["work_pool"]
            assert ours[name]["job_configuration"] == theirs[name]["job_configuration"], name
        capsys.readouterr()
        assert dispatch(["render", "-f", str(offline), "--env", env, "--json"]) == 0
        a = {d["name"]: d for d in json.loads(capsys.readouterr().out)["deployments"]}
        assert dispatch(["render", "-f", str(server_path), "--env", env, "--json"]) == 0
        b = {d["name"]: d for d in json.loads(capsys.readouterr().out)["deployments"]}
        assert a.keys() == b.keys()
        # The server adds what Prefect 2's `deployment build` filled in: the flow's
        # docstring, a hash for an unset version, its default of not enforcing the schema
        # and the code's folder in the image.
        added = {"version", "description", "enforce_parameter_schema", "pull_steps"}
        for name in a:
            keep = set(a[name]) - added - {"schedules"}
            assert [_instant(x) for x in a[name]["schedules"]] == [
                _instant(x) for x in b[name]["schedules"]
            ]
            assert {k: a[name][k] for k in keep} == {k: b[name].get(k) for k in keep}, name


def test_import_from_the_servers_gives_the_offline_config(
    legacy: Legacy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import --from-server` reads each environment's ECSTask block from its Prefect 2
    server: the same config as from the block file (whose image is `${IMAGE:-default}`,
    the server's the value it had when saved), the same warnings at another place."""
    monkeypatch.delenv("IMAGE", raising=False)
    monkeypatch.chdir(legacy.project)
    files = ["import", "dev.yaml", "prod.yaml", "--force", "-o"]
    capsys.readouterr()
    assert dispatch([*files, "offline.yaml", "--blocks", "infrastructure"]) == 0
    offline = capsys.readouterr().err.splitlines()
    servers = [f"--from-server={env}={legacy.servers[env].api_url}" for env in ENVS]
    assert dispatch([*files, "flowfleet.yaml", *servers]) == 0
    captured = capsys.readouterr()
    online = captured.err.splitlines()
    text = (legacy.project / "offline.yaml").read_text()
    expected = yaml.safe_load(re.sub(r"\$\{IMAGE:-([^}]*)\}", r"\1", text))
    assert yaml.safe_load((legacy.project / "flowfleet.yaml").read_text()) == expected
    assert [w.split(": warning: ")[1] for w in online] == [
        w.split(": warning: ")[1] for w in offline
    ]
    places = [w.split(": warning: ")[0] for w in online if "ECSTask" in w]
    assert places == [f"environment '{e}' ({legacy.servers[e].api_url})" for e in ENVS]
    # docs/migrating-from-prefect-2.md shows this output, for servers at other addresses
    shown = captured.err + captured.out
    for env in ENVS:
        shown = shown.replace(legacy.servers[env].api_url, f"http://prefect-{env}:4200/api")
    assert shown in blocks("migrating-from-prefect-2.md", "console")


READ_SCHEMAS = """
import json
from prefect.server.schemas import core, responses
print(json.dumps({name: sorted(model.__fields__) for name, model in (
    ("deployment", responses.DeploymentResponse),
    ("block_document", core.BlockDocument),
    ("block_type", core.BlockType),
)}))
"""


def test_what_flowfleet_reads_of_prefect_2_is_in_its_schemas() -> None:
    """The fields of flowfleet.server.wire.PREFECT_2_RESPONSES are Prefect 2.20's own."""
    from flowfleet.server import wire

    done = subprocess.run(
        [PYTHON2, "-W", "ignore", "-c", READ_SCHEMAS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    schema_of = {
        wire.Prefect2Deployment: "deployment",
        wire.BlockDocument: "block_document",
        wire.BlockTypeRef: "block_type",  # a block document's `block_type`
    }
    assert set(wire.PREFECT_2_RESPONSES) <= set(schema_of)
    for model, name in schema_of.items():
        assert set(model.model_fields) <= set(theirs[name]), model.__name__
