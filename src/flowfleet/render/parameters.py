"""Check a rendered deployment's parameters (and each schedule's) against its flow."""

from __future__ import annotations

from collections.abc import Iterator

from flowfleet.config.document import DocPath
from flowfleet.flows.inspect import Flow, check_parameters
from flowfleet.render.deployments import Rendered


def parameter_problems(flow: Flow, item: Rendered) -> Iterator[tuple[DocPath, str]]:
    """(where, message) for every parameter problem of the deployment.

    A required parameter may be left out of the deployment's parameters when every
    schedule supplies it: each scheduled run then has it.
    """
    deployment = item.deployment
    params = deployment.parameters
    schedules = deployment.schedules
    required = set(flow.parameter_schema.get("required", []))
    supplied_by_schedules = {
        name for name in required if schedules and all(name in s.parameters for s in schedules)
    }
    for problem in check_parameters(
        flow, params, enforce_schema=deployment.enforce_parameter_schema
    ):
        name = problem.parameter
        if name in supplied_by_schedules and name not in params:
            continue
        yield _where(item, name, params), problem.message
    for index, schedule in enumerate(schedules):
        if not schedule.parameters:
            continue
        merged = {**params, **schedule.parameters}
        for problem in check_parameters(
            flow, merged, enforce_schema=deployment.enforce_parameter_schema
        ):
            if problem.parameter in schedule.parameters:
                path = (*item.origin("schedules"), index, "parameters", problem.parameter)
                yield path, f"schedule '{schedule.slug}': {problem.message}"


def _where(item: Rendered, name: str | None, params: dict[str, object]) -> DocPath:
    if name is not None and name in params:
        return item.origin(f"parameters.{name}")
    return item.origin("parameters")
