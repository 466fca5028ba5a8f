"""Offline checks of triggers and automations, per environment, beyond their schema.

- A standalone automation needs a trigger and an action once its environment's settings
  are applied (render leaves one without them out).
- A reference by name has the form the server looks it up by: `flow/deployment`,
  `pool/queue`, `block-type/block`. Whether it exists is the plan's question: it may be
  declared in another environment, or exist on the server only.
- An enabled automation that runs a deployment on a flow-run state every run passes
  through (Scheduled, Pending, Running) without narrowing which runs: each run it starts
  fires it again. The server refuses it (`prevent_run_deployment_loops`); so does this.
- The parameters of a run (a deployment's trigger, or a `run-deployment` action naming a
  deployment declared for the environment) are checked against the flow it runs, merged
  over the deployment's own as the server merges them. Templated values (`{{ event }}`
  strings, `__prefect_kind` objects) are rendered when the automation fires: exempt.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flowfleet.config.automations import AutomationSettings, AutomationSpec
from flowfleet.config.document import DocPath
from flowfleet.config.load import LoadedConfig
from flowfleet.flows.inspect import Flow, check_parameters
from flowfleet.model.resources import Automation, Deployment
from flowfleet.render.deployments import Rendered, substitute
from flowfleet.render.infrastructure import in_environment, render_automations

# Where in the config, whether at the key rather than the value, and what is wrong.
Finding = tuple[DocPath, bool, str]
FlowOf = Callable[[Deployment], Flow | None]  # None: the entrypoint has its own error
ACTION_LISTS = ("actions", "actions_on_trigger", "actions_on_resolve")
# The flow-run events every run of a deployment emits (and the wildcard of them all).
LOOP_EVENTS = {
    "prefect.flow-run.Scheduled",
    "prefect.flow-run.Pending",
    "prefect.flow-run.Running",
    "prefect.flow-run.*",
}
FORMS = {  # reference → (the form the server looks it up by, an example)
    "deployment": ("flow/deployment", "my-flow/my-deployment"),
    "work_queue": ("pool/queue", "my-pool/default"),
    "block": ("block-type/block", "slack-webhook/alerts"),
}


def automation_problems(
    loaded: LoadedConfig, environment: str, rendered: list[Rendered], flow_of: FlowOf
) -> Iterator[Finding]:
    """Every problem of the deployments' triggers and of the standalone automations of
    `environment`."""
    for item in rendered:
        yield from _triggers(item, flow_of(item.deployment))
    by_name = {r.deployment.full_name: r.deployment for r in rendered}
    for key, spec in loaded.config.automations.items():
        found = in_environment({key: spec}, environment)
        if found:
            name, settings = found[0]
            at = _Origins(key, spec, environment)
            yield from _incomplete(name, settings, at, environment)
            for automation in render_automations({key: spec}, environment):
                loop = endless_loop(automation)
                if loop is not None:
                    yield ((*at("trigger"), "expect"), False, f"automation '{name}' {loop}")
            for path, action in _actions(settings, at):
                yield from _action(name, action, path, environment, by_name, flow_of)


def _triggers(item: Rendered, flow: Flow | None) -> Iterator[Finding]:
    deployment = item.deployment
    for index, automation in enumerate(deployment.triggers):
        at = (*item.origin("triggers"), index)
        loop = endless_loop(automation)
        if loop is not None:
            yield ((*at, "expect"), False, f"trigger '{automation.name}' {loop}")
        if flow is not None:
            given = automation.actions[0].get("parameters") or {}
            who = (f"trigger '{automation.name}'", "the trigger's")
            yield from run_problems(flow, deployment, given, at, who)


class _Origins:
    """The config path of a standalone automation's field in one environment: its
    environment's settings replace the automation's own field by field."""

    def __init__(self, key: str, spec: AutomationSpec, environment: str) -> None:
        where = spec.environments
        override = where.get(environment) if isinstance(where, Mapping) else None
        self.key: DocPath = ("automations", key)
        self.overridden = override.model_fields_set if override is not None else set()
        self.environment = environment

    def __call__(self, field: str) -> DocPath:
        if field in self.overridden:
            return (*self.key, "environments", self.environment, field)
        return (*self.key, field)


def _incomplete(
    name: str, settings: AutomationSettings, at: _Origins, environment: str
) -> Iterator[Finding]:
    if settings.trigger is None:
        yield (
            at.key,
            True,
            f"automation '{name}' has no trigger in environment '{environment}'; set trigger "
            f"on it, or under environments.{environment}",
        )
    if not any(getattr(settings, field) for field in ACTION_LISTS):
        yield (
            at.key,
            True,
            f"automation '{name}' has no actions in environment '{environment}'; set actions "
            f"on it, or under environments.{environment}",
        )


def _actions(settings: AutomationSettings, at: _Origins) -> Iterator[tuple[DocPath, Any]]:
    for field in ACTION_LISTS:
        for index, action in enumerate(getattr(settings, field) or ()):
            yield (*at(field), index), action


def _action(
    name: str,
    action: Any,
    path: DocPath,
    environment: str,
    deployments: Mapping[str, Deployment],
    flow_of: FlowOf,
) -> Iterator[Finding]:
    """The form of the action's references; the parameters of a run of a deployment
    declared for the environment."""
    names = {"env": environment}
    for ref, (form, example) in FORMS.items():
        written = getattr(action, ref, None)  # `{env}` is a name without a slash
        first, slash, second = str(written).partition("/")
        if written is not None and (not (first and slash and second) or "/" in second):
            hint = _hint(ref, substitute(written, names), deployments, example)
            yield (
                (*path, ref),
                False,
                f"automation '{name}': {ref.replace('_', ' ')} '{written}' is not of the form "
                f"{form}; {hint}",
            )
    target = deployments.get(substitute(getattr(action, "deployment", None), names))
    flow = flow_of(target) if target is not None else None
    if action.type == "run-deployment" and target is not None and flow is not None:
        who = (f"automation '{name}'", "the action's")
        yield from run_problems(flow, target, action.parameters or {}, path, who)


def _hint(ref: str, written: str, deployments: Mapping[str, Deployment], example: str) -> str:
    if ref == "deployment":
        named = [full for full, d in deployments.items() if d.name == written]
        close = named or difflib.get_close_matches(written, list(deployments), n=1)
        if close:
            return f"did you mean '{close[0]}'?"
    return f"e.g. '{example}'"


def run_problems(
    flow: Flow,
    deployment: Deployment,
    given: Mapping[str, Any],
    at: DocPath,
    who: tuple[str, str],
) -> Iterator[Finding]:
    """The problems of a run of `deployment` with the parameters `given` at `at` (the
    run's mapping in the config; its `parameters` below it), `who` names the run and its
    parameters. Problems of the deployment's own parameters are its own."""
    run, its = who
    rendered = [name for name, value in given.items() if templated(value)]
    enforce = deployment.enforce_parameter_schema
    own = {p.message for p in check_parameters(flow, deployment.parameters, enforce_schema=enforce)}
    merged = {**deployment.parameters, **given}
    for problem in check_parameters(flow, merged, enforce_schema=enforce, unchecked=rendered):
        if problem.missing:
            yield (
                at,
                False,
                f"{run}: its runs lack required parameter {problem.parameter!r} of flow "
                f"{flow.name!r}; set it under the deployment's parameters or {its}",
            )
        elif problem.parameter is not None and problem.parameter in given:
            yield ((*at, "parameters", problem.parameter), False, f"{run}: {problem.message}")
        elif problem.parameter is None and given and problem.message not in own:
            yield ((*at, "parameters"), False, f"{run}: {problem.message}")


def endless_loop(automation: Automation) -> str | None:
    """Why each run the automation starts would fire it again, or None (Prefect's
    AutomationCore.prevent_run_deployment_loops, which makes the server answer 422)."""
    trigger = automation.trigger
    reactive = trigger.get("type") == "event" and trigger.get("posture") == "Reactive"
    if not automation.enabled or not reactive or not LOOP_EVENTS & set(trigger["expect"]):
        return None
    related = trigger["match_related"]
    narrowed = not _every_flow_run(trigger["match"]) or not any(
        _every_flow_run(r) for r in (related if isinstance(related, list) else [related])
    )
    for action in automation.actions:
        if action["type"] != "run-deployment":
            continue
        if action["source"] == "inferred":
            return (
                "runs the deployment of the flow run its event is about, on a state every "
                "run passes through: an endless loop of runs (the server refuses it); name "
                "the deployment to run, and narrow match or match_related"
            )
        if not narrowed:
            return (
                "runs a deployment on a state every flow run passes through, of any flow "
                "run: each run it starts fires it again (the server refuses it); narrow "
                "match or match_related to the runs it is meant for"
            )
    return None


def _every_flow_run(labels: Mapping[str, Any]) -> bool:
    """ResourceSpecification.matches_every_resource_of_kind("prefect.flow-run")."""
    if not labels:
        return True
    ids = labels.get("prefect.resource.id") if len(labels) == 1 else None
    values = [ids] if isinstance(ids, str) else ids or []
    return "prefect.flow-run.*" in values


def templated(value: Any) -> bool:
    """Whether the server renders `value` when the automation fires: a string with a
    Jinja template in it, or a `{"__prefect_kind": ...}` object, anywhere inside."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return "__prefect_kind" in value or any(templated(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(templated(v) for v in value)
    return False
