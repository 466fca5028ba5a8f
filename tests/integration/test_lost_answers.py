"""Answers lost after the server acted (tests/faults/proxy.py, `lose`): the proxy forwards
a write, the real server makes it, and the answer is dropped (RST) or held past the
client's timeout. Each kind of write flowfleet sends loses at least 20 answers across
the two runs below: the 200-deployment apply covers flows, deployments, schedules, work
pools, queues, variables, concurrency limits and blocks; twenty small applies cover the
writes made once per apply (the lock, the generation, the ownership ledger) and block
types and schemas (the type is deleted before each, so each apply registers it again).
One apply exits 0, every change done, no object twice, the lock released, the next plan
empty. Also: a deadline (--timeout) with one endpoint answering after 90 s, and two
environments applied at once while one server fails mid-way."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.ledger import ledger_name
from flowfleet.server.lock import lock_name
from tests.faults.figures import record
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.integration.conftest import Project, api, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

REQUEST_TIMEOUT = "1"  # PREFECT_API_REQUEST_TIMEOUT: "late" answers come after 1.5 s
FLOWS = 20
PER_FLOW = 10  # 200 deployments
LIMITED = 2  # of them, with a schedule that has max_scheduled_runs (40 in all)
ITEMS = 24  # of each infrastructure kind
BULK = {  # write kind -> fraction of its answers lost
    "flow": 1.0,
    "deployment": 0.25,
    "schedule": 0.8,
    "work_pool": 1.0,
    "work_queue": 1.0,
    "variable": 1.0,
    "concurrency_limit": 1.0,
    "block": 1.0,
}
ONCE_PER_APPLY = {"lock": 1.0, "generation": 1.0, "ledger": 1.0, "block_type": 1.0}
RUNS = 20


def _flow_file(name: str) -> str:
    return (
        "from prefect import flow\n\n\n"
        f'@flow(name="{name}")\n'
        "def main(number: int = 1):\n"
        "    return number\n"
    )


def _bulk_config(project: Project, url: str, s: str) -> tuple[str, list[str]]:
    flows = [f"{project.flow}-{k:02d}" for k in range(FLOWS)]
    for k, name in enumerate(flows):
        (project.root / "flows" / f"f{k:02d}.py").write_text(_flow_file(name))
    lines = [f"project: lost-{s}", "environments:", f"  dev: {{api_url: '{url}'}}"]
    lines += ["work_pools:"]
    lines += [
        f"  lost-{s}-{i}: {{type: process, description: 'pool {i}', queues: {{q{i}: {{}}}}}}"
        for i in range(ITEMS)
    ]
    lines += ["variables:"] + [f"  lost_{s}_{i}: {{value: {{n: {i}}}}}" for i in range(ITEMS)]
    lines += ["concurrency_limits:"] + [f"  lost-{s}-{i}: {{limit: {i + 1}}}" for i in range(ITEMS)]
    lines += ["blocks:"] + [
        f"  lost-{s}-{i}: {{type: secret, fields: {{value: 'v{i}'}}}}" for i in range(ITEMS)
    ]
    lines += ["deployments:"]
    for k in range(FLOWS):
        lines += [
            "  - name: 'd-{i}'",
            f"    entrypoint: flows/f{k:02d}.py:main",
            f"    matrix: {{i: {list(range(PER_FLOW - LIMITED))}}}",
            "    parameters: {number: '{i}'}",
            # sent in a second request (the schedules endpoint): not an upsert
            "  - name: 'limited-{i}'",
            f"    entrypoint: flows/f{k:02d}.py:main",
            f"    matrix: {{i: {list(range(LIMITED))}}}",
            "    schedules: [{interval: 3600, max_scheduled_runs: 3}]",
        ]
    return "\n".join(lines) + "\n", flows


def _filter(url: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return api(url, "POST", path, {**body, "limit": 200})  # type: ignore[no-any-return]


def _absent(url: str, path: str) -> bool:
    try:
        api(url, "GET", path)
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code == 404
    return False


def test_bulk_apply_through_lost_answers_makes_each_object_once(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PREFECT_API_REQUEST_TIMEOUT", REQUEST_TIMEOUT)
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    plan = FaultPlan(seed=14, lose=BULK | ONCE_PER_APPLY, late=0.04, late_seconds=1.5)
    with FaultProxy(url.removesuffix("/api"), plan) as proxy:
        text, flows = _bulk_config(project, proxy.url, s)
        project.config.write_text(text)
        config = str(project.config)
        assert dispatch(["apply", "--yes", "-f", config]) == 0, capsys.readouterr().err
        applied = capsys.readouterr()
        import sys

        print(
            applied.out[-300:],
            proxy.lost_by_kind(),
            len(proxy.log),
            sum(1 for x in proxy.lost() if x.lost == "late"),
            file=sys.__stderr__,
        )
        lost = proxy.lost_by_kind()
        assert dispatch(["plan", "--detailed-exitcode", "-f", config]) == 0
        planned = capsys.readouterr().out

    declared = FLOWS * PER_FLOW
    summary = re.search(
        rf"^dev: {declared + 5 * ITEMS} created, 0 updated, 0 deleted, 0 unchanged, 0 failed "
        r"in [\d.]+ s \((\d+) requests, (\d+) retried\)$",
        applied.out,
        re.M,
    )
    assert summary is not None, applied.out + applied.err
    assert "failed:" not in applied.err and "not attempted" not in applied.err
    assert "No changes:" in planned
    for kind in BULK:
        assert lost.get(kind, 0) >= 20, (kind, lost)

    # the server holds exactly the declared objects: counted, each once
    found = [d for f in flows for d in deployments_of(url, f)]
    names = sorted((d["flow_id"], d["name"]) for d in found)
    assert len(names) == declared == len(set(names))
    limited = [d for d in found if d["name"].startswith("limited-")]
    assert len(limited) == FLOWS * LIMITED
    assert all(len(d["schedules"]) == 1 for d in limited)  # none created twice
    pools = _filter(
        url,
        "/work_pools/filter",
        {"work_pools": {"name": {"any_": [f"lost-{s}-{i}" for i in range(ITEMS)]}}},
    )
    assert len(pools) == ITEMS
    queues = [
        q["name"]
        for i in range(ITEMS)
        for q in _filter(url, f"/work_pools/lost-{s}-{i}/queues/filter", {})
    ]
    assert sorted(queues) == sorted(["default"] * ITEMS + [f"q{i}" for i in range(ITEMS)])
    variables = _filter(url, "/variables/filter", {"variables": {"name": {"like_": f"lost_{s}_"}}})
    variables = [v for v in variables if v["name"].startswith(f"lost_{s}_")]  # _: any character
    assert sorted(v["name"] for v in variables) == sorted(f"lost_{s}_{i}" for i in range(ITEMS))
    limits = [c["name"] for c in _filter(url, "/v2/concurrency_limits/filter", {})]
    assert sorted(n for n in limits if n.startswith(f"lost-{s}-")) == sorted(
        f"lost-{s}-{i}" for i in range(ITEMS)
    )
    blocks = api(url, "GET", "/block_types/slug/secret/block_documents")
    assert sorted(b["name"] for b in blocks if b["name"].startswith(f"lost-{s}-")) == sorted(
        f"lost-{s}-{i}" for i in range(ITEMS)
    )
    assert _absent(url, f"/variables/name/{lock_name(f'lost-{s}', 'dev')}")  # released
    assert not _absent(url, f"/variables/name/{ledger_name(f'lost-{s}', 'dev')}")
    objects = len(found) + len(pools) + len(queues) + len(variables) + ITEMS * 2
    record(
        "lost_bulk",
        {
            "deployments": declared,
            "items": ITEMS * 5,
            "lost": lost,
            "late": sum(1 for seen in proxy.lost() if seen.lost == "late"),
            "retries_reported": int(summary.group(2)),
            "objects_counted": objects,
            "duplicates": len(names) - len(set(names)),
            "exit_code": 0,
            "converged": 1,
        },
    )


def _delete_type(url: str, slug: str) -> None:
    """Remove a block type (its schemas and blocks go with it): the next apply registers it."""
    try:
        found = api(url, "GET", f"/block_types/slug/{slug}")
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return
        raise
    api(url, "DELETE", f"/block_types/{found['id']}")


def test_writes_made_once_per_apply_lose_their_answers_and_the_lock_never_waits_for_itself(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every apply loses the answer of each lock, generation, ledger and block type write
    (a tenth of them held past the client's timeout); with `--lock-timeout 0`, a run that
    took its own lease for someone else's would refuse at once."""
    monkeypatch.setenv("PREFECT_API_REQUEST_TIMEOUT", REQUEST_TIMEOUT)
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    plan = FaultPlan(seed=41, lose=ONCE_PER_APPLY, late=0.1, late_seconds=1.5)
    retries = 0
    with FaultProxy(url.removesuffix("/api"), plan) as proxy:
        header = f"project: once-{s}\nenvironments:\n  dev: {{api_url: '{proxy.url}'}}\n"
        for i in range(RUNS):
            _delete_type(url, "minio-credentials")
            project.write(
                f"variables:\n  once_{s}: {{value: {{run: {i}}}}}\n"
                "blocks:\n"
                f"  once-{s}: {{type: minio-credentials, fields: {{minio_root_user: u{i},"
                " minio_root_password: p}}\n"
                "deployments:\n"
                f"  - {{name: once, entrypoint: flows/main.py:main, description: 'run {i}'}}\n",
                header=header,
            )
            code = dispatch(["apply", "--yes", "--lock-timeout", "0", "-f", str(project.config)])
            applied = capsys.readouterr()
            assert code == 0, applied.err
            summary = re.search(r"\((\d+) requests, (\d+) retried\)$", applied.out, re.M)
            assert summary is not None and "failed:" not in applied.err, applied
            retries += int(summary.group(2))
        lost = proxy.lost_by_kind()
        late = sum(1 for seen in proxy.lost() if seen.lost == "late")
        assert dispatch(["plan", "--detailed-exitcode", "-f", str(project.config)]) == 0

    for kind in ONCE_PER_APPLY:
        assert lost.get(kind, 0) >= 20, (kind, lost)
    assert _absent(url, f"/variables/name/{lock_name(f'once-{s}', 'dev')}")  # released
    found = [d["name"] for d in deployments_of(url, project.flow)]
    assert found == ["once"]
    variables = _filter(
        url,
        "/variables/filter",
        {
            "variables": {
                "name": {
                    "any_": [
                        f"once_{s}",
                        lock_name(f"once-{s}", "dev"),
                        ledger_name(f"once-{s}", "dev"),
                        lock_name(f"once-{s}", "dev").replace("_lock__", "_generation__"),
                    ]
                }
            }
        },
    )
    assert sorted(v["name"] for v in variables) == sorted(
        [f"once_{s}", ledger_name(f"once-{s}", "dev"), f"flowfleet_generation__once-{s}__dev"]
    )
    blocks = api(url, "GET", "/block_types/slug/minio-credentials/block_documents")
    assert [b["name"] for b in blocks] == [f"once-{s}"]
    record(
        "lost_once_per_apply",
        {
            "applies": RUNS,
            "lost": lost,
            "late": late,
            "retries_reported": retries,
            "duplicates": 0,
            "converged": 1,
        },
    )


def test_a_deadline_ends_the_apply_when_one_endpoint_answers_after_90_s(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Concurrency limits are answered after 90 s: each request to them is retried when
    PREFECT_API_REQUEST_TIMEOUT passes (a slow answer is not a server that is down), then
    the deadline ends the apply: done, failed, not attempted, exit 1, lock released."""
    monkeypatch.setenv("PREFECT_API_REQUEST_TIMEOUT", "2")
    url = project.servers.url("dev")
    s = uuid.uuid4().hex[:6]
    body = (
        f"variables:\n  slow_{s}_a: {{value: 1}}\n  slow_{s}_b: {{value: 2}}\n"
        f"concurrency_limits:\n  slow-{s}: {{limit: 1}}\n"
        "deployments:\n  - name: 'd-{i}'\n    entrypoint: flows/main.py:main\n"
        "    matrix: {i: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"
    )
    slow = FaultPlan(slow=("POST", "/api/v2/concurrency_limits/"), slow_seconds=90)
    deadline = 8.0
    with FaultProxy(url.removesuffix("/api"), slow) as proxy:
        header = f"project: slow-{s}\nenvironments:\n  dev: {{api_url: '{proxy.url}'}}\n"
        config = str(project.write(body, header=header))
        started = time.monotonic()
        code = dispatch(
            ["--debug", "apply", "--yes", "--json", "--timeout", f"{deadline:g}", "-f", config]
        )
        took = time.monotonic() - started
        captured = capsys.readouterr()
        slow_requests = len(proxy.faults("slow"))

    assert code == 1, captured.err
    assert took < deadline + 3, took  # releasing the lock comes after the deadline
    assert captured.out, captured.err
    [result] = json.loads(captured.out)["results"]
    assert result["stopped"] == f"the deadline of {deadline:g} s (--timeout) was reached"
    assert sorted(result["done"]) == [f"variable/slow_{s}_a", f"variable/slow_{s}_b"]
    assert [f["deployment"] for f in result["failures"]] == [f"concurrency_limit/slow-{s}"]
    assert len(result["not_attempted"]) == 10 and result["counts"]["not_attempted"] == 10
    assert result["retries"] >= 2 and slow_requests >= 3  # retried, not given up on
    assert (
        f"dev: apply incomplete: 2 changes done, 1 failed, 10 not attempted (the deadline of "
        f"{deadline:g} s (--timeout) was reached); fix the cause" in captured.err
    )
    assert _absent(url, f"/variables/name/{lock_name(f'slow-{s}', 'dev')}")
    assert deployments_of(url, project.flow) == []

    # without the slow endpoint, the next apply converges
    direct = f"project: slow-{s}\nenvironments:\n  dev: {{api_url: '{url}'}}\n"
    config = str(project.write(body, header=direct))
    assert dispatch(["apply", "--yes", "-f", config]) == 0
    assert dispatch(["plan", "--detailed-exitcode", "-f", config]) == 0
    record(
        "deadline",
        {
            "timeout": deadline,
            "seconds": round(took, 1),
            "exit_code": code,
            "done": len(result["done"]),
            "failed": len(result["failures"]),
            "not_attempted": len(result["not_attempted"]),
            "slow_requests": slow_requests,
            "converged": 1,
        },
    )


def test_two_environments_at_once_one_server_failing_midway(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """dev's server vanishes after 12 writes (its lock variable excepted, so its lease
    can be released); prod completes meanwhile; the summary names every change of each
    environment as done, failed or not attempted; a second apply converges both."""
    s = uuid.uuid4().hex[:6]
    body = (
        f"variables:\n  two_{s}: {{value: 1}}\n"
        "deployments:\n  - name: 'd-{i}'\n    entrypoint: flows/main.py:main\n"
        f"    matrix: {{i: {list(range(30))}}}\n"
    )
    prod = project.servers.url("prod")
    failing = FaultPlan(down_after=12)

    def header(dev: str) -> str:
        return (
            f"project: two-{s}\nenvironments:\n  dev: {{api_url: '{dev}'}}\n"
            f"  prod: {{api_url: '{prod}'}}\n"
        )

    with FaultProxy(project.servers.url("dev").removesuffix("/api"), failing) as proxy:
        config = str(project.write(body, header=header(proxy.url)))
        code = dispatch(["apply", "--yes", "--json", "--env", "dev", "--env", "prod", "-f", config])
        captured = capsys.readouterr()
    assert code == 1, captured.err
    results = {r["environment"]: r for r in json.loads(captured.out)["results"]}
    declared = {f"{project.flow}/d-{i}" for i in range(30)} | {f"variable/two_{s}"}
    assert results["prod"]["complete"] and set(results["prod"]["done"]) == declared
    dev = results["dev"]
    failed = {f["deployment"] for f in dev["failures"]}
    assert set(dev["done"]) | failed | set(dev["not_attempted"]) == declared
    assert dev["done"] and dev["not_attempted"] and not dev["complete"]
    assert dev["stopped"] == "the server stopped answering"
    assert f"not attempted: dev: environment 'dev': cannot reach {proxy.url}" in captured.err
    assert f"({len(dev['not_attempted'])} changes: " in captured.err

    config = str(project.write(body, header=header(project.servers.url("dev"))))
    assert dispatch(["apply", "--yes", "--env", "dev", "--env", "prod", "-f", config]) == 0
    again = capsys.readouterr().out
    assert re.search(r"^prod: 0 created, 0 updated.* 31 unchanged", again, re.M) or (
        "No changes" in again.split("Plan for")[2]
    )
    assert (
        dispatch(["plan", "--detailed-exitcode", "--env", "dev", "--env", "prod", "-f", config])
        == 0
    )
    for url in (project.servers.url("dev"), prod):
        names = [d["name"] for d in deployments_of(url, project.flow)]
        assert sorted(names) == sorted(f"d-{i}" for i in range(30))
    record(
        "two_environments",
        {
            "declared": len(declared),
            "dev_done": len(dev["done"]),
            "dev_failed": len(failed),
            "dev_not_attempted": len(dev["not_attempted"]),
            "prod_done": len(results["prod"]["done"]),
            "converged": 1,
        },
    )
