"""`render --jobs`: each deployment's job configuration as its worker will build it, offline.

Prefect's own code does the work: the worker type's job configuration class (from its
installed package, else Prefect's `BaseJobConfiguration`) fills the pool's base job template
(the pool's job variables are its defaults) with the deployment's job variables, then
prepares it for a flow run as the worker does. For an `ecs` pool, prefect-aws then derives
the task definition and the RunTask request (`flowfleet.render.ecs`).

What exists only at run time is shown as a placeholder: the ids of the flow run, flow,
deployment and pool, the flow run's name, and the worker's own API URL and key (which the
worker passes on to the job). The worker's other Prefect settings depend on where it runs
and are left out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from flowfleet._aio import run
from flowfleet.errors import Problem, ValidationFailed
from flowfleet.model.resources import Deployment, Infrastructure, WorkPool
from flowfleet.render.deployments import Rendered
from flowfleet.render.job_references import DeclaredReferences, UnknownOffline
from flowfleet.render.validate import Desired

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.objects import FlowRun
    from prefect.workers.base import BaseJobConfiguration

PLACEHOLDERS = {
    str(UUID(int=1)): "{flow_run.id}",
    str(UUID(int=2)): "{flow.id}",
    str(UUID(int=3)): "{deployment.id}",
    str(UUID(int=4)): "{work_pool.id}",
}
FLOW_RUN_NAME = "{flow_run.name}"
WORKER_API = {
    "PREFECT_API_URL": "{worker's PREFECT_API_URL}",
    "PREFECT_API_KEY": "{worker's PREFECT_API_KEY}",
}


def render_jobs(desired: Desired) -> list[dict[str, Any]]:
    """One entry per deployment, in config order. Raises ValidationFailed when a job
    configuration cannot be built (as the worker would fail at run time)."""
    references = DeclaredReferences(desired.infrastructure, desired.environment)
    return run(_render_all(desired, desired.deployments, references))


async def _render_all(
    desired: Desired, items: Iterable[Rendered], references: DeclaredReferences
) -> list[dict[str, Any]]:
    jobs, problems = [], []
    for item in items:
        deployment = item.deployment
        try:
            jobs.append(await _job(deployment, desired.infrastructure, references))
        except (UnknownOffline, ValueError) as exc:  # pydantic's ValidationError is one
            where = desired.loaded.locate(item.origin("work_pool.name"))
            message = (
                f"the job configuration of deployment '{deployment.full_name}' on work pool "
                f"'{deployment.work_pool_name}' cannot be built: {_reason(exc)}"
            )
            problems.append(Problem(where, message, (desired.environment,)))
    if problems:
        raise ValidationFailed(problems)
    return jobs


async def _job(
    deployment: Deployment, infrastructure: Infrastructure, references: DeclaredReferences
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "deployment": deployment.full_name,
        "work_pool": deployment.work_pool_name,
    }
    pool = infrastructure.pool(deployment.work_pool_name)
    if pool is None:
        job["job_configuration"] = None
        job["note"] = _unknown(deployment.work_pool_name)
        return job
    configuration = await _configuration(pool, deployment, references)
    flow_run = _prepare(configuration, pool, deployment)
    job["work_pool_type"] = pool.type
    job["job_configuration"] = configuration.model_dump(mode="json")
    if type(configuration).__name__ == "BaseJobConfiguration":
        job["note"] = (
            f"no installed package defines the '{pool.type}' worker: only the job "
            "configuration fields common to every worker are shown"
        )
    if pool.type == "ecs":
        job["ecs"] = _ecs(configuration, pool, flow_run)
    return dict(_placeholders(job))


def _ecs(configuration: BaseJobConfiguration, pool: WorkPool, flow_run: FlowRun) -> Any:
    try:
        from flowfleet.render.ecs import ecs_task
    except ImportError:
        return {"note": "install prefect-aws (flowfleet[aws]) to see the ECS task definition"}
    return ecs_task(configuration, pool.name, flow_run)


def _unknown(pool: str | None) -> str:
    if pool is None:
        return "no work pool: the deployment runs where it is served"
    return (
        f"work pool '{pool}' is not declared in the config: its base job template, and so "
        "the job configuration, is unknown offline"
    )


async def _configuration(
    pool: WorkPool, deployment: Deployment, references: DeclaredReferences
) -> BaseJobConfiguration:
    from prefect.workers.base import BaseJobConfiguration, BaseWorker

    worker = BaseWorker.get_worker_class_from_type(pool.type)
    kind = worker.job_configuration if worker is not None else BaseJobConfiguration
    # Block and variable references are read from the config, never from a server.
    client = cast("PrefectClient", references)
    configuration = await kind.from_template_and_values(
        pool.base_job_template, dict(deployment.job_variables), client=client
    )
    return cast("BaseJobConfiguration", configuration)


def _prepare(
    configuration: BaseJobConfiguration, pool: WorkPool, deployment: Deployment
) -> FlowRun:
    """Prepare for a stand-in flow run, as the worker prepares for each real one."""
    from prefect.client.schemas.objects import Flow, FlowRun
    from prefect.client.schemas.objects import WorkPool as ApiWorkPool
    from prefect.client.schemas.responses import DeploymentResponse
    from prefect.settings import PREFECT_API_KEY, PREFECT_API_URL, temporary_settings

    flow_id, deployment_id = UUID(int=2), UUID(int=3)
    flow_run = FlowRun(
        id=UUID(int=1), name=FLOW_RUN_NAME, flow_id=flow_id, deployment_id=deployment_id
    )
    flow = Flow(id=flow_id, name=deployment.flow_name, labels={})
    api_deployment = DeploymentResponse(
        id=deployment_id, name=deployment.name, flow_id=flow_id, work_pool_name=pool.name, labels={}
    )
    api_pool = ApiWorkPool.model_validate({"id": UUID(int=4), "name": pool.name, "type": pool.type})
    declared = set(configuration.env)
    worker_api = {PREFECT_API_URL: WORKER_API["PREFECT_API_URL"]}
    worker_api[PREFECT_API_KEY] = WORKER_API["PREFECT_API_KEY"]
    with temporary_settings(worker_api):
        # The worker's own settings, and for some types (process) its whole environment.
        settings = set(configuration._base_environment()) | set(os.environ)
        settings -= set(WORKER_API)
        configuration.prepare_for_flow_run(flow_run, api_deployment, flow, api_pool)
    configuration.env = {
        k: v for k, v in configuration.env.items() if k in declared or k not in settings
    }
    return flow_run


def _placeholders(value: Any) -> Any:
    """The stand-in ids, and this Python (a process worker runs flows with its own), shown
    as what they stand for."""
    if isinstance(value, str):
        for uuid, name in PLACEHOLDERS.items():
            value = value.replace(uuid, name)
        return value.replace(sys.executable, "{worker's python}")
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic: the messages, without pydantic's own wording
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in errors())
    return str(exc)
