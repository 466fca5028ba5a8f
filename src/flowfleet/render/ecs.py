"""For an `ecs` work pool: the task definition and the RunTask request that the ECS worker
derives from a job configuration, computed by prefect-aws's own worker code (prefect-aws
0.7.12, pinned in the `aws` extra) without AWS.

The worker builds both in `ECSWorker._prepare_and_create_task`, between AWS calls; this
module calls the same steps (`_prepare_task_definition`, `_validate_task_definition`,
`_prepare_task_run_request`) and stands in for what only AWS knows: the ARN the task
definition gets when registered, the region of the worker's AWS session (when the
credentials do not name one) and the subnets the worker looks up in a VPC.
"""

from __future__ import annotations

import abc
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prefect_aws.workers.ecs_worker import (
    ECS_DEFAULT_CONTAINER_NAME,
    ECSJobConfiguration,
    ECSWorker,
)

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun
    from prefect.workers.base import BaseJobConfiguration

TASK_DEFINITION_ARN = "{task_definition.arn}"
REGION = "{region of the worker's AWS session}"


class _OfflineECSWorker(ECSWorker, abc.ABC):
    """The ECS worker, its two EC2 look-ups replaced (they run when the task is created).

    Without a network configuration the worker uses every subnet of a VPC (the default
    one unless `vpc_id` is set): shown as such. With one it checks that the subnets belong
    to `vpc_id`, then uses the configuration unchanged: taken as given here.
    (`abc.ABC` keeps this class out of Prefect's worker registry, where it would replace
    the real worker of type `ecs`; it has no abstract methods and instantiates as usual.)
    """

    def _load_network_configuration(
        self, vpc_id: str | None, configuration: ECSJobConfiguration
    ) -> dict[str, Any]:
        vpc = f"VPC {vpc_id}" if vpc_id else "the default VPC"
        return {
            "awsvpcConfiguration": {
                "subnets": f"{{every subnet of {vpc}, looked up at run time}}",
                "assignPublicIp": "ENABLED",
                "securityGroups": [],
            }
        }

    def _custom_network_configuration(
        self, vpc_id: str, network_configuration: dict[str, Any], configuration: ECSJobConfiguration
    ) -> dict[str, Any]:
        return {"awsvpcConfiguration": network_configuration}


def ecs_task(
    configuration: BaseJobConfiguration, pool_name: str, flow_run: FlowRun
) -> dict[str, Any]:
    """The summary, task definition and RunTask request of a prepared ECS job configuration."""
    assert isinstance(configuration, ECSJobConfiguration)
    worker = _OfflineECSWorker(work_pool_name=pool_name)
    arn = configuration.task_run_request.get("taskDefinition")
    task_definition: dict[str, Any] | None = None
    if arn:  # registered outside Prefect: the worker reads it from AWS and uses it as is
        request = worker._prepare_task_run_request(configuration, {}, arn, False)
    else:
        region = (
            configuration.aws_credentials and configuration.aws_credentials.region_name
        ) or REGION
        with _quiet_git():
            task_definition = worker._prepare_task_definition(configuration, region, flow_run)
        worker._validate_task_definition(task_definition, configuration)
        request = worker._prepare_task_run_request(
            configuration, task_definition, TASK_DEFINITION_ARN, True
        )
    return {
        "summary": summary(task_definition, request, configuration.container_name),
        "task_definition": task_definition,
        "run_task_request": request,
    }


def summary(
    task_definition: dict[str, Any] | None, request: dict[str, Any], container_name: str | None
) -> dict[str, Any]:
    """What runs where: read from the task definition and the RunTask request (the
    request's overrides win, as in ECS)."""
    definition = task_definition or {}
    name = container_name or ECS_DEFAULT_CONTAINER_NAME
    container = _named(definition.get("containerDefinitions", []), name)
    overrides = request.get("overrides", {})
    override = _named(overrides.get("containerOverrides", []), name)
    environment = {e["name"]: e["value"] for e in container.get("environment", [])}
    environment.update({e["name"]: e["value"] for e in override.get("environment", [])})
    result = {
        "image": container.get("image"),
        "cpu": overrides.get("cpu") or definition.get("cpu"),
        "memory": overrides.get("memory") or definition.get("memory"),
        "cluster": request.get("cluster", "default"),
        "launch_type": request.get("launchType"),
        "task_role_arn": overrides.get("taskRoleArn") or definition.get("taskRoleArn"),
        "execution_role_arn": definition.get("executionRoleArn"),
        "environment": dict(sorted(environment.items())),
        "network_configuration": request.get("networkConfiguration"),
    }
    if request.get("capacityProviderStrategy"):
        result["capacity_provider_strategy"] = request["capacityProviderStrategy"]
    if task_definition is None:
        result["note"] = "task definition registered outside Prefect: unknown offline"
    return result


@contextlib.contextmanager
def _quiet_git() -> Iterator[None]:
    """Prefect's `get_prefect_image_name()`, the default image that the worker computes
    even when an image is set, runs `git rev-parse`; outside a git repository git complains
    on the inherited stderr. Silence that one call."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next((item for item in items if item.get("name") == name), {})
