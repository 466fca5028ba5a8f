"""Timed measurements: a command's wall time and peak memory, and the raw API floor
(sequential httpx requests carrying the same deployment bodies)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.project import POOL, Spec, pull_steps, specs

PAGE = 200


@dataclass
class Sample:
    """One timed run: seconds, peak RSS in MB, failed changes and anything else seen."""

    seconds: float
    max_rss_mb: float = 0.0
    failed: int = 0
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def run_command(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[Sample, str]:
    """Run a command to completion; its wall time, peak RSS (os.wait4) and stdout."""
    with tempfile.TemporaryFile() as out:  # not in cwd: that may be the repository
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        try:
            stderr = process.stderr.read() if process.stderr else b""
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM: do not leave the command running
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    process.returncode = os.waitstatus_to_exitcode(status)
    sample = Sample(seconds, usage.ru_maxrss / 1024, exit_code=process.returncode)
    if process.returncode not in (0, 2):
        sample.extra["stderr"] = stderr.decode(errors="replace")[-2000:]
    return sample, stdout


def flowfleet_failures(stdout: str) -> tuple[int, dict[str, Any]]:
    """Failed changes and request counts from `flowfleet apply --json`."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return -1, {}
    results = data.get("results", [])
    failed = sum(r["counts"].get("failed", 0) for r in results)
    requests = sum(r.get("requests", 0) for r in results)
    retries = sum(r.get("retries", 0) for r in results)
    return failed, {"requests": requests, "retries": retries}


def count_deployments(api_url: str) -> int:
    """How many deployments the server holds (a check on every cold apply)."""
    response = httpx.post(f"{api_url}/deployments/count", json={}, timeout=60)
    response.raise_for_status()
    return int(response.json())


class Floor:
    """The minimum HTTP calls the same changes need, sent one at a time."""

    def __init__(self, api_url: str, root: Path) -> None:
        self.client = httpx.Client(base_url=api_url, timeout=60)
        self.root = root
        self.retries = 0
        self.failed = 0

    def close(self) -> None:
        self.client.close()

    def cold(self, deployments: list[Spec]) -> Sample:
        """Flows once each, then one POST /deployments/ per deployment."""
        started = time.perf_counter()
        flow_ids = {
            k: self._send("POST", "/flows/", {"name": f"bench-flow-{k}"})["id"]
            for k in {d.flow for d in deployments}
        }
        for d in deployments:
            self._send("POST", "/deployments/", self.body(d, flow_ids[d.flow]))
        return self._sample(started)

    def unchanged(self) -> Sample:
        """Read every deployment back (pages of 200): what an unchanged plan needs."""
        started = time.perf_counter()
        self.read_all()
        return self._sample(started)

    def changed(self, deployments: list[Spec]) -> Sample:
        """Read everything, then one PATCH per changed deployment."""
        started = time.perf_counter()
        ids = {d["name"]: d["id"] for d in self.read_all()}
        for d in deployments:
            if d.changed:
                self._send("PATCH", f"/deployments/{ids[d.name]}", {"description": d.description})
        return self._sample(started)

    def read_all(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._send("POST", "/deployments/filter", {"limit": PAGE, "offset": len(items)})
            items.extend(page)
            if len(page) < PAGE:
                return items

    def body(self, d: Spec, flow_id: str) -> dict[str, Any]:
        return {
            "name": d.name,
            "flow_id": flow_id,
            "entrypoint": d.entrypoint,
            "description": d.description,
            "parameters": {"i": d.index},
            "parameter_openapi_schema": _SCHEMA,
            "schedules": [{"schedule": {"cron": d.cron, "timezone": "UTC"}, "active": True}],
            "tags": ["bench"],
            "work_pool_name": POOL,
            "pull_steps": pull_steps(self.root),
        }

    def _send(self, method: str, path: str, body: Any) -> Any:
        for _ in range(10):
            try:
                response = self.client.request(method, path, json=body)
            except httpx.TransportError:
                self.retries += 1
                continue
            if response.status_code == 503:
                self.retries += 1
                continue
            if response.is_success:
                return response.json() if response.content else None
            break
        self.failed += 1
        return {} if method != "POST" or not path.endswith("filter") else []

    def _sample(self, started: float) -> Sample:
        sample = Sample(time.perf_counter() - started, failed=self.failed)
        sample.extra["retries"] = self.retries
        self.failed = self.retries = 0
        return sample


_SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "i": {"title": "i", "default": 0, "position": 0, "type": "integer"},
        "label": {"title": "label", "default": "x", "position": 1, "type": "string"},
    },
}


def read_cost(api_url: str, root: Path, n: int = 200, repeats: int = 5) -> dict[str, float]:
    """What the server spends creating and returning deployments with and without a
    schedule: N of each created one by one, then read as one page `repeats` times (median);
    and the read cost per schedule."""
    floor = Floor(api_url, root)
    try:
        seconds = {}
        for label, with_schedule in (("with_schedule", True), ("without_schedule", False)):
            flow = floor._send("POST", "/flows/", {"name": f"read-cost-{label}"})["id"]
            started = time.perf_counter()
            for d in specs(n):
                body = floor.body(d, flow)
                if not with_schedule:
                    body["schedules"] = []
                floor._send("POST", "/deployments/", body)
            seconds[f"create_{label}"] = time.perf_counter() - started
            query = {"flows": {"name": {"any_": [f"read-cost-{label}"]}}, "limit": PAGE}
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                floor._send("POST", "/deployments/filter", query)
                times.append(time.perf_counter() - started)
            seconds[label] = sorted(times)[repeats // 2]
    finally:
        floor.close()

    def per_schedule(key: str) -> float:
        return (seconds[f"{key}with_schedule"] - seconds[f"{key}without_schedule"]) / n * 1000

    return {
        **{f"{k}_s": v for k, v in seconds.items()},
        "n": n,
        "ms_per_schedule": per_schedule(""),
        "create_ms_per_schedule": per_schedule("create_"),
    }
