"""Triggering one deployment's flow run and following it to its end (`flowfleet run`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server import wire
from flowfleet.server.api import Api, connect

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class RunError(FlowfleetError):
    """The run could not be created, or did not finish in time."""


async def trigger(
    target: Target, flow: str, deployment: str, params: dict[str, Any], wait: bool, timeout: float
) -> dict[str, Any]:
    """Create a run of `flow/deployment` with `params`; with `wait`, poll it until it
    ends (RunError after `timeout` s). The run as JSON data, with its logs when waited."""
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
