"""Generate a temporary project of N deployments of a few flows, for flowfleet and for
`prefect deploy` (an equivalent prefect.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOWS = 3
POOL = "bench-pool"
ENVIRONMENT = "bench"
FLOW_SOURCE = '''"""Benchmark flow {k}."""

from prefect import flow


@flow(name="bench-flow-{k}")
def flow_{k}(i: int = 0, label: str = "x") -> int:
    """Return i."""
    return i
'''


@dataclass(frozen=True)
class Spec:
    """One deployment of the benchmark, as both tools and the raw floor declare it."""

    index: int
    changed: bool = False

    @property
    def name(self) -> str:
        return f"d-{self.index:05d}"

    @property
    def flow(self) -> int:
        return self.index % FLOWS

    @property
    def entrypoint(self) -> str:
        return f"flows/flow_{self.flow}.py:flow_{self.flow}"

    @property
    def cron(self) -> str:
        return f"{self.index % 60} {self.index % 24} * * *"

    @property
    def description(self) -> str:
        return f"Deployment {self.index} (changed)" if self.changed else f"Deployment {self.index}"


def specs(n: int, changed_every: int = 0) -> list[Spec]:
    """N deployments; with `changed_every`, every such one has a changed description."""
    return [Spec(i, changed_every > 0 and i % changed_every == 0) for i in range(n)]


def changed_every(n: int) -> int:
    """The step that changes 1 % of N deployments (at least one)."""
    return max(1, n // max(1, n // 100))


def write_flows(root: Path) -> None:
    """The flow files shared by every generated project."""
    (root / "flows").mkdir(parents=True, exist_ok=True)
    for k in range(FLOWS):
        (root / "flows" / f"flow_{k}.py").write_text(FLOW_SOURCE.format(k=k))


def pull_steps(root: Path) -> list[dict[str, Any]]:
    step = "prefect.deployments.steps.set_working_directory"
    return [{step: {"directory": str(root)}}]


def write_flowfleet(root: Path, deployments: list[Spec], *, from_settings: bool = False) -> Path:
    """flowfleet.yaml (JSON is YAML) for one environment whose URL is $BENCH_API_URL, or
    (`from_settings`) without `api_url`: the server comes from the Prefect settings in
    force, as in a CI job that sets PREFECT_API_URL."""
    environment = {} if from_settings else {"api_url": "${BENCH_API_URL}"}
    config = {
        "project": "bench",
        "defaults": {
            "tags": ["bench"],
            "work_pool": {"name": POOL},
            "pull_steps": pull_steps(root),
        },
        "environments": {ENVIRONMENT: environment},
        "deployments": [_flowfleet_deployment(d) for d in deployments],
    }
    path = root / "flowfleet.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


def _flowfleet_deployment(d: Spec) -> dict[str, Any]:
    return {
        "name": d.name,
        "entrypoint": d.entrypoint,
        "description": d.description,
        "parameters": {"i": d.index},
        "schedules": [{"cron": d.cron, "timezone": "UTC"}],
    }


def write_prefect_yaml(root: Path, deployments: list[Spec]) -> Path:
    """The equivalent prefect.yaml for `prefect deploy --all`."""
    config = {
        "name": "bench",
        "pull": pull_steps(root),
        "deployments": [_prefect_deployment(d) for d in deployments],
    }
    path = root / "prefect.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


def _prefect_deployment(d: Spec) -> dict[str, Any]:
    return {
        "name": d.name,
        "entrypoint": d.entrypoint,
        "description": d.description,
        "parameters": {"i": d.index},
        "tags": ["bench"],
        "schedules": [{"cron": d.cron, "timezone": "UTC"}],
        "work_pool": {"name": POOL},
    }
