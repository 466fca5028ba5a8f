"""run FLOW/DEPLOYMENT: trigger one deployment and, with --wait, wait for its end."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flowfleet.config.load import load_config
from flowfleet.config.variables import connection_problems
from flowfleet.errors import FlowfleetError, Problem, ValidationFailed
from flowfleet.output.console import err, out, print_json
from flowfleet.server import wire
from flowfleet.server.api import Api, connect
from flowfleet.server.connection import resolve_target

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class RunError(FlowfleetError):
    """The run could not be created, or did not finish in time."""


def parse_params(params: Sequence[str]) -> dict[str, Any]:
    """`k=v` pairs; v is JSON when it parses (`n=3` is a number), else text."""
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RunError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def run_deployment(
    file: Path,
    environment: str | None,
    name: str,
    params: Sequence[str],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> int:
    """Exit 0 if the run was created (without --wait) or COMPLETED (with it)."""
    flow, sep, deployment = name.partition("/")
    if not sep or not flow or not deployment:
        raise RunError(f"expected FLOW/DEPLOYMENT, got {name!r} (e.g. hello/daily)")
    loaded = load_config(file, environment=environment)
    env = environment or _only(list(loaded.config.environments))
    if env not in loaded.config.environments:
        raise RunError(f"unknown environment '{env}' in {loaded.file}")
    lacking = [
        Problem(p.location, p.message, (env,)) for p in connection_problems(loaded, env, os.environ)
    ]
    if lacking:
        raise ValidationFailed(lacking)
    target = resolve_target(loaded.root, env, loaded.config.environments[env])
    state = asyncio.run(_run(target, flow, deployment, parse_params(params), wait, timeout))
    if as_json:
        print_json(state)
    else:
        out(f"{name} in {env}: flow run {state['name']} ({state['id']}): {state['state']}")
        for line in state.get("logs", []):
            out(f"  | {line}")
    if wait and state["state"] != "COMPLETED":
        err(f"the run ended {state['state']}: {state.get('message') or 'no message'}")
        return 1
    return 0


def _only(names: list[str]) -> str:
    if len(names) != 1:
        raise RunError(f"choose an environment with --env ({', '.join(names)})")
    return names[0]


async def _run(
    target: Any, flow: str, deployment: str, params: dict[str, Any], wait: bool, timeout: float
) -> dict[str, Any]:
    async with connect(target, concurrency=1) as api:
        path = f"/deployments/name/{quote(flow)}/{quote(deployment)}"
        found = wire.DeploymentResponse.model_validate(await api.call("GET", path))
        body = wire.DeploymentFlowRunCreate(parameters=params)
        created = await api.call("POST", f"/deployments/{found.id}/create_flow_run", body)
        run = wire.FlowRunResponse.model_validate(created)
        if wait:
            run = await _wait(api, run.id, timeout)
        return await _describe(api, run, with_logs=wait)


async def _wait(api: Api, run_id: str, timeout: float) -> wire.FlowRunResponse:
    deadline = time.monotonic() + timeout
    while True:
        run = wire.FlowRunResponse.model_validate(await api.call("GET", f"/flow_runs/{run_id}"))
        state = run.state or wire.State()
        if state.type in FINAL:
            return run
        if time.monotonic() > deadline:
            raise RunError(
                f"flow run {run.name} is still {state.type} after {timeout:.0f} s "
                "(is a worker polling its work pool?)"
            )
        await asyncio.sleep(1.0)


async def _describe(api: Api, run: wire.FlowRunResponse, *, with_logs: bool) -> dict[str, Any]:
    state = run.state or wire.State()
    result: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "state": state.type,
        "message": state.message,
        "parameters": run.parameters,
    }
    if with_logs:
        result["logs"] = await _logs(api, run.id)
    return result


async def _logs(api: Api, run_id: str, patience: float = 10.0) -> list[str]:
    """The run's log lines; the run's process sends its last ones after the final state,
    so wait (a little) for the engine's closing "Finished in state" line."""
    deadline = time.monotonic() + patience
    body = wire.LogsFilter(
        logs=wire.LogFilter(flow_run_id=wire.AnyOf(any_=[run_id])), sort="TIMESTAMP_ASC", limit=200
    )
    while True:
        found = await api.call("POST", "/logs/filter", body)
        lines = [wire.Log.model_validate(entry).message for entry in found]
        if any(line.startswith("Finished in state") for line in lines):
            return lines
        if time.monotonic() > deadline:
            return lines
        await asyncio.sleep(0.5)
