"""Two real Prefect servers (dev and prod, SQLite), started once per test session.

They run the installed Prefect, or, when FLOWFLEET_TEST_SERVER_PYTHON names another
interpreter (`make test-compat`: one per Prefect version, see compat/), that interpreter's
Prefect. All tests using them are in the xdist group "servers", so they run on one worker
and the servers start once (`pytest -n 2 --dist loadgroup`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowfleet.server.local import LocalServer, ServerInfo
from tests.conftest import write_tree

pytestmark = pytest.mark.xdist_group("servers")


@dataclass
class Servers:
    dev: ServerInfo
    prod: ServerInfo

    def url(self, env: str) -> str:
        return str(getattr(self, env).api_url)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("servers")
    python = os.environ.get("FLOWFLEET_TEST_SERVER_PYTHON") or None
    locals_ = {env: LocalServer(root, env, python=python, ui=False) for env in ("dev", "prod")}
    with ThreadPoolExecutor(2) as pool:
        started = dict(
            zip(locals_, pool.map(lambda s: s.start(services=False), locals_.values()), strict=True)
        )
    for env in ("dev", "prod"):
        for pool_name in (f"pool-{env}", "shared-pool"):
            api(
                started[env].api_url, "POST", "/work_pools/", {"name": pool_name, "type": "process"}
            )
    try:
        yield Servers(started["dev"], started["prod"])
    finally:
        for server in locals_.values():
            server.stop()


def api(url: str, method: str, path: str, body: Any = None) -> Any:
    """A direct request to a test server (test set-up and checks, not flowfleet's code)."""
    response = httpx.request(method, url + path, json=body, timeout=30)
    response.raise_for_status()
    return response.json() if response.content else None


def read_deployment(url: str, flow: str, name: str) -> dict[str, Any] | None:
    try:
        return api(url, "GET", f"/deployments/name/{flow}/{name}")  # type: ignore[no-any-return]
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise


def deployments_of(url: str, flow: str) -> list[dict[str, Any]]:
    body = {"flows": {"name": {"any_": [flow]}}, "limit": 200}
    return api(url, "POST", "/deployments/filter", body)  # type: ignore[no-any-return]


@dataclass
class Project:
    """A throwaway project folder whose flows have names no other test uses."""

    root: Path
    flow: str  # the unique flow name
    servers: Servers

    @property
    def config(self) -> Path:
        return self.root / "flowfleet.yaml"

    def write(self, deployments_yaml: str, *, header: str | None = None) -> Path:
        head = header or (
            f"project: {self.root.name}\n"
            "environments:\n"
            f"  dev: {{api_url: '{self.servers.url('dev')}'}}\n"
            f"  prod: {{api_url: '{self.servers.url('prod')}'}}\n"
        )
        self.config.write_text(head + deployments_yaml.replace("FLOW", self.flow))
        return self.config


@pytest.fixture
def project(tmp_path: Path, servers: Servers) -> Project:
    flow = f"f-{uuid.uuid4().hex[:10]}"
    write_tree(
        tmp_path,
        {
            "flows/main.py": (
                "from datetime import datetime\n"
                "from prefect import flow\n\n\n"
                f'@flow(name="{flow}", log_prints=True)\n'
                "def main(number: int = 1, name: str = 'x', when: datetime | None = None):\n"
                "    print(f'{name} {number}')\n"
                "    return number\n"
            )
        },
    )
    root = tmp_path / f"p{uuid.uuid4().hex[:6]}"
    root.mkdir()
    (tmp_path / "flows").rename(root / "flows")
    return Project(root, flow, servers)
