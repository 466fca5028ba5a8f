"""Work pools, queues, variables, concurrency limits and blocks as code, on a real server."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.ledger import ledger_name
from tests.integration.conftest import Project, api

pytestmark = pytest.mark.xdist_group("servers")

SECRET = "s3cr3t-value-never-printed"


def _config(
    suffix: str,
    *,
    description: str = "first",
    limit: int = 3,
    value: int = 1,
    with_variable: bool = True,
) -> str:
    variable = f"  v_{suffix}: {{value: {{a: {value}}}, tags: [team]}}\n" if with_variable else ""
    return (
        "work_pools:\n"
        f"  pool-{suffix}:\n"
        "    type: process\n"
        f"    description: {description}\n"
        "    concurrency_limit: 2\n"
        "    queues:\n"
        "      critical: {priority: 1, concurrency_limit: 5}\n"
        "variables:\n"
        f"{variable}"
        f"  keep_{suffix}: {{value: kept}}\n"
        "concurrency_limits:\n"
        f"  lim-{suffix}: {{limit: {limit}}}\n"
        "blocks:\n"
        f"  creds-{suffix}: {{type: secret, fields: {{value: '${{FF_BLOCK_SECRET}}'}}}}\n"
        f"  aws-{suffix}:\n"
        "    type: aws-credentials\n"
        "    fields: {aws_access_key_id: AKIAEXAMPLE, region_name: eu-west-1,\n"
        "             aws_secret_access_key: '${FF_BLOCK_SECRET}'}\n"
        "deployments: []\n"
    )


def _apply(project: Project, *args: str) -> int:
    return dispatch(["apply", "-f", str(project.config), "--env", "dev", "--yes", *args])


def _read(url: str, path: str) -> dict | None:  # type: ignore[type-arg]
    try:
        return api(url, "GET", path)  # type: ignore[no-any-return]
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise


def test_infrastructure_lifecycle(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FF_BLOCK_SECRET", SECRET)
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:8]
    project.write(_config(s))

    # created
    assert _apply(project) == 0, capsys.readouterr().err
    pool = _read(url, f"/work_pools/pool-{s}")
    assert pool is not None
    assert (pool["type"], pool["description"], pool["concurrency_limit"]) == ("process", "first", 2)
    queue = _read(url, f"/work_pools/pool-{s}/queues/critical")
    assert queue is not None and (queue["priority"], queue["concurrency_limit"]) == (1, 5)
    variable = _read(url, f"/variables/name/v_{s}")
    assert variable is not None and variable["value"] == {"a": 1}
    assert sorted(variable["tags"]) == sorted(["team", f"flowfleet:{project.root.name}/dev"])
    limit = _read(url, f"/v2/concurrency_limits/lim-{s}")
    assert limit is not None and limit["limit"] == 3
    secret = _read(
        url, f"/block_types/slug/secret/block_documents/name/creds-{s}?include_secrets=true"
    )
    assert secret is not None and secret["data"] == {"value": SECRET}
    aws = _read(
        url, f"/block_types/slug/aws-credentials/block_documents/name/aws-{s}?include_secrets=true"
    )
    assert aws is not None
    assert aws["data"]["region_name"] == "eu-west-1"
    assert aws["data"]["aws_secret_access_key"] == SECRET
    ledger = _read(url, f"/variables/name/{ledger_name(project.root.name, 'dev')}")
    assert ledger is not None and f"pool-{s}" in ledger["value"]["work_pool"]

    # untouched when unchanged: no change planned, no write made
    before = {
        p: (_read(url, p) or {}).get("updated")
        for p in (
            f"/work_pools/pool-{s}",
            f"/variables/name/v_{s}",
            f"/v2/concurrency_limits/lim-{s}",
        )
    }
    assert dispatch(["plan", "-f", str(project.config), "--env", "dev", "--detailed-exitcode"]) == 0
    capsys.readouterr()
    assert _apply(project, "--json") == 0
    assert json.loads(capsys.readouterr().out)["results"] == []
    after = {p: (_read(url, p) or {}).get("updated") for p in before}
    assert after == before

    # updated, secrets never printed
    monkeypatch.setenv("FF_BLOCK_SECRET", SECRET + "-rotated")
    project.write(_config(s, description="second", limit=4, value=2))
    assert dispatch(["plan", "-f", str(project.config), "--env", "dev", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    updates = {
        c["name"]: {f["field"] for f in c["fields"]}
        for c in plan["changes"]
        if c["action"] == "update"
    }
    assert updates == {
        f"pool-{s}": {"description"},
        f"v_{s}": {"value"},
        f"lim-{s}": {"limit"},
        f"secret/creds-{s}": {"data"},
        f"aws-credentials/aws-{s}": {"data"},
    }
    assert _apply(project) == 0
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert (_read(url, f"/work_pools/pool-{s}") or {})["description"] == "second"
    assert (_read(url, f"/v2/concurrency_limits/lim-{s}") or {})["limit"] == 4
    rotated = _read(
        url, f"/block_types/slug/secret/block_documents/name/creds-{s}?include_secrets=true"
    )
    assert rotated is not None and rotated["data"] == {"value": SECRET + "-rotated"}

    # pruned only when owned
    api(url, "POST", "/variables/", {"name": f"theirs_{s}", "value": 1})
    project.write(_config(s, description="second", limit=4, value=2, with_variable=False))
    assert _apply(project) == 0
    assert _read(url, f"/variables/name/v_{s}") is not None  # kept without --prune
    assert _apply(project, "--prune") == 0
    assert _read(url, f"/variables/name/v_{s}") is None
    assert _read(url, f"/variables/name/theirs_{s}") is not None
    assert _read(url, f"/variables/name/keep_{s}") is not None
    assert _read(url, f"/work_pools/pool-{s}") is not None


def test_unowned_infrastructure_is_a_conflict_until_adopted(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:8]
    api(url, "POST", "/work_pools/", {"name": f"made-by-hand-{s}", "type": "process"})
    project.write(
        f"work_pools:\n  made-by-hand-{s}: {{type: process, description: mine}}\ndeployments: []\n"
    )

    assert dispatch(["plan", "-f", str(project.config), "--env", "dev", "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    assert [(c["action"], c["name"]) for c in plan["changes"]] == [
        ("conflict", f"made-by-hand-{s}")
    ]
    assert _apply(project) == 0
    assert (_read(url, f"/work_pools/made-by-hand-{s}") or {})["description"] is None
    assert _apply(project, "--adopt") == 0
    assert (_read(url, f"/work_pools/made-by-hand-{s}") or {})["description"] == "mine"
    # adopted: now owned, so prune may delete it
    project.write("deployments: []\n")
    assert _apply(project, "--prune") == 0
    assert _read(url, f"/work_pools/made-by-hand-{s}") is None
