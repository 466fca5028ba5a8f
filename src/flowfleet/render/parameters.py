"""Check a rendered deployment's parameters (and each schedule's) against its flow.

Prefect checks a deployment's own parameters with required ones ignored: a trigger,
`run_deployment(...)` or a person supplies them per run. So a required parameter the
deployment leaves unset is an error only where a run is certain to lack it (a schedule of
the deployment that does not supply it either), else a warning (nothing without
`enforce_parameter_schema`, which is what that setting is for).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowfleet.config.document import DocPath
from flowfleet.flows.inspect import Flow, check_parameters
from flowfleet.render.deployments import Rendered


@dataclass(frozen=True)
class Finding:
    """A parameter problem: where, what, and whether it is only a warning."""

    path: DocPath
    message: str
    warning: bool = False


def parameter_problems(flow: Flow, item: Rendered) -> Iterator[Finding]:
    """Every parameter problem of the deployment and of its schedules."""
    deployment = item.deployment
    params, schedules = deployment.parameters, deployment.schedules
    enforce = deployment.enforce_parameter_schema
    for problem in check_parameters(flow, params, enforce_schema=enforce):
        name = problem.parameter
        if not problem.missing:
            yield Finding(_where(item, name, params), problem.message)
        elif enforce and not schedules:
            yield Finding(
                item.origin("parameters"),
                f"{problem.message} (unset here: each run must supply it, or the run is"
                " refused; set it under parameters if every run needs the same value)",
                warning=True,
            )
    for index, schedule in enumerate(schedules):
        merged = {**params, **schedule.parameters}
        for problem in check_parameters(flow, merged, enforce_schema=enforce):
            path = (*item.origin("schedules"), index)
            if problem.missing:
                yield Finding(
                    path,
                    f"schedule '{schedule.slug}': its runs lack required parameter"
                    f" {problem.parameter!r} of flow {flow.name!r}; set it under the"
                    " deployment's parameters or the schedule's",
                )
            elif problem.parameter in schedule.parameters:
                path = (*path, "parameters", problem.parameter)
                yield Finding(path, f"schedule '{schedule.slug}': {problem.message}")


def _where(item: Rendered, name: str | None, params: dict[str, object]) -> DocPath:
    if name is not None and name in params:
        return item.origin(f"parameters.{name}")
    return item.origin("parameters")
