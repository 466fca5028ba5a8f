"""Faults between flowfleet and a real server, injected by a proxy (tests/faults/proxy.py):
503, 429 with Retry-After, connection resets and delays on a fraction of requests; and a
server that refuses the key (401/403) or echoes it back. Apply converges, honours
Retry-After, reports its retries; a refused key is one line, no writes, never the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.faults.figures import record
from tests.faults.proxy import FaultPlan, FaultProxy, Seen
from tests.integration.conftest import Project, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

SECRET = "pnu_flowfleet_fault_secret_0xC0FFEE42"
N = 50
DEPLOYMENTS = f"""deployments:
  - name: "many-{{i}}"
    entrypoint: flows/main.py:main
    matrix: {{i: {list(range(N))}}}
    parameters: {{number: "{{i}}"}}
    description: "number {{i}}"
"""
FAULTS = FaultPlan(seed=6, unavailable=0.1, too_many=0.08, reset=0.08, delay=0.1)


def _header(url: str) -> str:
    return f"project: faults\nenvironments:\n  dev: {{api_url: '{url}', api_key_env: FF_KEY}}\n"


def _no_secret_anywhere(root: Path, *texts: str) -> None:
    assert all(SECRET not in text for text in texts)
    for path in root.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _retry_gaps_after_429(log: list[Seen]) -> list[float]:
    """For each 429: seconds from the answer to the next arrival of the same request."""
    gaps = []
    for i, seen in enumerate(log):
        if seen.fault == "429":
            retry = next(s for s in log[i + 1 :] if s.key == seen.key)
            gaps.append(retry.arrived - seen.answered)
    return gaps


def test_apply_converges_through_injected_faults(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FF_KEY", SECRET)
    upstream = project.servers.url("dev").removesuffix("/api")
    with FaultProxy(upstream, FAULTS) as proxy:
        config = str(project.write(DEPLOYMENTS, header=_header(proxy.url)))
        assert dispatch(["--debug", "apply", "--yes", "-f", config]) == 0
        applied = capsys.readouterr()
        apply_log = list(proxy.log)
        assert dispatch(["--debug", "plan", "--detailed-exitcode", "-f", config]) == 0
        planned = capsys.readouterr()

    first_write = next(i for i, s in enumerate(apply_log) if s.is_write)
    expected = sum(s.retriable for s in apply_log[first_write:])
    summary = re.search(
        r"^dev: 50 created, .* \((\d+) requests, (\d+) retried\)$", applied.out, re.M
    )
    assert summary is not None, applied.out
    assert int(summary.group(2)) == expected  # every retriable answer on the apply path
    kinds = {k: len(proxy.faults(k)) for k in ("503", "429", "reset", "delay")}
    assert all(kinds.values()), kinds  # each kind of fault was injected at least once
    assert any(s.fault for s in apply_log[:first_write])  # the plan's reads saw faults too
    gaps = _retry_gaps_after_429(proxy.log)
    assert min(gaps) >= 0.99  # Retry-After: 1 honoured (0.01 s for clock granularity)
    assert "No changes:" in planned.out

    found = deployments_of(project.servers.url("dev"), project.flow)
    names = sorted(d["name"] for d in found)
    assert names == sorted(f"many-{i}" for i in range(N))  # all there, each exactly once
    assert all(d["parameters"] == {"number": int(d["name"][5:])} for d in found)
    _no_secret_anywhere(project.root, applied.out, applied.err, planned.out, planned.err)
    record(
        "proxy",
        {
            "requests": len(proxy.log),
            "faults": len(proxy.faults()),
            "by_kind": kinds,
            "retries_reported": int(summary.group(2)),
            "retries_expected": expected,
            "after_429": len(gaps),
            "min_wait_after_429": round(min(gaps), 3),
            "missing": N - len(set(names)),
            "duplicates": len(names) - len(set(names)),
            "converged": 1,
        },
    )


REFUSED = {  # what follows "error: environment 'dev' (URL): ", as a regular expression
    401: re.escape(
        "the server refused the request (401); check the API key variable named by api_key_env"
    ),
    403: re.escape(
        "the server refused the request (403); check the API key variable named by api_key_env"
    ),
    # a server echoing the Authorization header in an error: the key is masked
    422: r"(GET|POST) /\S+ failed with 422: injected 422; got Bearer \*\*\*",
}


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_refused_key_is_one_line_without_the_key_and_writes_nothing(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug: list[str],
) -> None:
    monkeypatch.setenv("FF_KEY", SECRET)
    upstream = project.servers.url("dev").removesuffix("/api")
    for status, message in REFUSED.items():
        # the proxy answers everything with `status`, echoing the Authorization header
        with FaultProxy(upstream, FaultPlan(refuse=status)) as proxy:
            config = str(project.write(DEPLOYMENTS, header=_header(proxy.url)))
            for command in (["apply", "--yes"], ["plan"]):
                assert dispatch([*debug, *command, "-f", config]) == 1
                captured = capsys.readouterr()
                where = re.escape(f"error: environment 'dev' ({proxy.url}): ")
                assert re.fullmatch(where + message + "\n", captured.err), captured.err
                _no_secret_anywhere(project.root, captured.out, captured.err)
        assert proxy.log and not any(s.is_write or s.forwarded for s in proxy.log)
    assert deployments_of(project.servers.url("dev"), project.flow) == []
    record("refused", {"cases": len(REFUSED) * 2 * 2, "writes": 0})


def test_unreachable_with_debug_is_one_line_without_the_key(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FF_KEY", SECRET)
    upstream = project.servers.url("dev").removesuffix("/api")
    with FaultProxy(upstream, FaultPlan()) as proxy:
        url = proxy.url
    config = str(project.write(DEPLOYMENTS, header=_header(url)))  # nobody listens now
    for command in (["apply", "--yes"], ["plan", "--json"]):
        assert dispatch(["--debug", *command, "-f", config]) == 1
        captured = capsys.readouterr()
        assert captured.err.startswith(f"error: environment 'dev': cannot reach {url} (")
        assert captured.err.count("\n") == 1 and captured.out == ""
        _no_secret_anywhere(project.root, captured.out, captured.err)
