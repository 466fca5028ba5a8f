"""The server is SIGKILLed in the middle of an apply of 500 deployments and restarted on
the same database: the interrupted apply says what was and was not done (exit 1), the
next apply converges to exactly the declared set.

A dedicated local server (not the session servers): this test kills it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.api import DROPS_BEFORE_UNREACHABLE
from flowfleet.server.local import LocalServer, ServerInfo
from tests.conftest import write_tree
from tests.faults.figures import record

pytestmark = pytest.mark.xdist_group("servers")

A = [f"a{i}" for i in range(20)]
B = [f"b{i}" for i in range(25)]  # 20 x 25 = 500 deployments
KILL_AT = 150  # deployments on the server when it is killed

CONFIG = f"""project: bulk
environments:
  dev: {{local: true}}
deployments:
  - name: "d-{{a}}-{{b}}"
    entrypoint: flows/main.py:main
    matrix: {{a: {A}, b: {B}}}
    description: "deployment {{a}} {{b}}"
    parameters: {{name: "{{a}}-{{b}}", number: 7}}
    tags: [bulk, "{{a}}"]
"""
FLOW = (
    "from prefect import flow\n\n\n"
    '@flow(name="bulk-flow")\n'
    "def main(number: int = 1, name: str = 'x'):\n"
    "    return number\n"
)


def _count(server: ServerInfo) -> int:
    try:
        answer = httpx.post(f"{server.api_url}/deployments/count", json={}, timeout=5)
        return int(answer.json())
    except (httpx.HTTPError, ValueError):
        return -1


def _all_deployments(server: ServerInfo) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        body = {"limit": 200, "offset": len(found)}
        page = httpx.post(f"{server.api_url}/deployments/filter", json=body, timeout=30).json()
        found += page
        if len(page) < 200:
            return found


def _apply_and_kill(root: Path, server: ServerInfo) -> tuple[int, str, str]:
    """`flowfleet apply` in its own process; SIGKILL the server (its whole process group)
    once KILL_AT deployments exist."""
    command = [sys.executable, "-m", "flowfleet.cli", "apply", "--yes", "-f", "flowfleet.yaml"]
    out, err = root / "apply.out", root / "apply.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        apply = subprocess.Popen(command, cwd=root, stdout=stdout, stderr=stderr)
        try:
            while _count(server) < KILL_AT:
                assert apply.poll() is None, err.read_text()
                time.sleep(0.05)
            os.killpg(server.pid, signal.SIGKILL)
            code = apply.wait(timeout=180)
        finally:
            apply.kill()
    return code, out.read_text(), err.read_text()


def test_sigkill_mid_apply_then_restart_converges(tmp_path: Path) -> None:
    root = tmp_path / "bulk"
    write_tree(root, {"flowfleet.yaml": CONFIG, "flows/main.py": FLOW})
    local = LocalServer(root, "dev")
    server = local.start(services=False)
    try:
        code, out, err = _apply_and_kill(root, server)
        summary = re.search(
            r"^dev: (\d+) created, 0 updated, 0 deleted, 0 unchanged, (\d+) failed, "
            r"(\d+) not attempted in [\d.]+ s \(\d+ requests, \d+ retried\)$",
            out,
            re.M,
        )
        assert code == 1, out + err
        assert summary is not None, out + err
        done, failed, not_attempted = (int(n) for n in summary.groups())
        # Failed: the writes in flight when the server died, and any that a dying server
        # still accepted and dropped (the client stops after a refusal or
        # DROPS_BEFORE_UNREACHABLE drops); none when the kill fell between two requests
        # and the next one was refused. The rest were never sent.
        assert done >= KILL_AT and done + failed + not_attempted == 500
        assert 0 <= failed <= DROPS_BEFORE_UNREACHABLE and not_attempted >= 1
        assert (
            f"dev: apply incomplete: {done} changes done, {failed} failed, {not_attempted} not "
            "attempted (the server stopped answering); fix the cause, then run apply again: "
            "it plans afresh and converges\n"
        ) in err
        assert f"not attempted: dev: environment 'dev': cannot reach {server.api_url}" in err
        assert "Traceback" not in err

        server = local.start(services=False)  # the same SQLite database
        found = _count(server)
        assert done <= found <= done + failed  # + those in flight when killed, if committed

        assert dispatch(["apply", "--yes", "-f", str(root / "flowfleet.yaml")]) == 0
        deployments = _all_deployments(server)
        names = [d["name"] for d in deployments]
        assert len(names) == 500 and len(set(names)) == 500
        assert len({d["id"] for d in deployments}) == 500
        assert set(names) == {f"d-{a}-{b}" for a in A for b in B}
        for d in deployments:
            a, b = d["name"].split("-")[1:]
            assert d["description"] == f"deployment {a} {b}"
            assert d["parameters"] == {"name": f"{a}-{b}", "number": 7}
            assert set(d["tags"]) == {"bulk", a, "flowfleet:bulk/dev"}
            assert d["entrypoint"] == "flows/main.py:main"
        assert dispatch(["plan", "--detailed-exitcode", "-f", str(root / "flowfleet.yaml")]) == 0
    finally:
        local.stop()
    record(
        "sigkill",
        {
            "declared": 500,
            "exit_code": code,
            "done": done,
            "failed": failed,
            "not_attempted": not_attempted,
            "found_after_restart": found,
            "created_by_rerun": 500 - found,
            "rerun_exit_code": 0,
            "missing": 500 - len(set(names)),
            "duplicates": len(names) - len(set(names)),
            "converged": 1,
            "output": [summary.group(0), next(x for x in err.splitlines() if "incomplete" in x)],
        },
    )
