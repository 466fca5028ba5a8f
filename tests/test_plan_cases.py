"""Table-driven tests of the pure planner: one case per file in plan_cases/.

Each case gives the desired deployments and the live ones (as `LiveDeployment` data) and
the full expected plan: every change that is not "unchanged" (action, key, changed fields
as `[old, new]` in their normalised form, reason), the unchanged names, the errors and the
orphans. All of it is compared, and the order of the changes too (the declared order, then
the deletions). An unchanged deployment is listed by name alone, so it must have no fields
and no reason. Shorthands, so a case shows only what matters:

- a deployment's `key: flow/name` stands for `flow_name` and `name`;
- a missing `entrypoint` is `flows/<flow>.py:<flow>`;
- each desired deployment gets this project's and environment's ownership marker tag
  appended, as `flowfleet.apply.pipeline.managed_deployments` does before planning (live
  deployments carry exactly the tags the case gives them);
- `live_flows` defaults to the flows of the live deployments.

A case with `xfail: reason` documents a planner bug: it is expected to fail (strictly).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.model.resources import Deployment, LiveDeployment, LiveState
from flowfleet.plan.deployments import Action, Change, Plan, build_plan, ownership_marker

CASE_DIR = Path(__file__).parent / "plan_cases"
CASES = sorted(CASE_DIR.glob("*.yaml"))
CASE_KEYS = {
    "description",
    "project",
    "environment",
    "prune",
    "adopt",
    "desired",
    "live",
    "live_pools",
    "live_flows",
    "expected",
    "xfail",
}
EXPECTED_KEYS = {"changes", "unchanged", "errors", "orphans"}
# The actions whose Change refers to the desired deployment, and to the live one.
WITH_DESIRED = {Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.CONFLICT}
WITH_LIVE = {Action.UPDATE, Action.UNCHANGED, Action.CONFLICT, Action.DELETE}


def load_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict), path
    assert set(case) <= CASE_KEYS, f"{path.name}: unknown keys {set(case) - CASE_KEYS}"
    assert set(case["expected"]) <= EXPECTED_KEYS, path.name
    return case


def case_params() -> list[Any]:
    params = []
    for path in CASES:
        reason = load_case(path).get("xfail")
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def deployment(data: dict[str, Any], marker: str | None = None) -> Deployment:
    """A Deployment from case data; `marker` (if given) is appended to the tags."""
    values = dict(data)
    if "key" in values:
        values["flow_name"], values["name"] = values.pop("key").split("/")
    flow = values["flow_name"]
    values.setdefault("entrypoint", f"flows/{flow}.py:{flow}")
    if marker is not None and marker not in values.get("tags", ()):
        values["tags"] = [*values.get("tags", ()), marker]
    return Deployment.model_validate(values)


def live_deployment(data: dict[str, Any]) -> LiveDeployment:
    values = dict(data)
    values["deployment"] = deployment(values["deployment"])
    return LiveDeployment.model_validate(values)


def json_data(value: Any) -> Any:
    """Tuples as lists, as in the YAML of the cases."""
    return json.loads(json.dumps(value))


def name(change: Change) -> str:
    return "/".join(change.key)


def summary(plan: Plan) -> dict[str, Any]:
    """The plan in the terms of a case's `expected` (only the public fields of a change:
    action, key, fields, reason)."""

    def change(c: Change) -> dict[str, Any]:
        item: dict[str, Any] = {"action": c.action.value, "key": name(c)}
        if c.fields:
            item["fields"] = {f.field: json_data([f.old, f.new]) for f in c.fields}
        if c.reason:
            item["reason"] = c.reason
        return item

    def unchanged(c: Change) -> str | dict[str, Any]:
        # a name alone, as the cases list them, only when there is nothing else to say
        return name(c) if not (c.fields or c.reason) else change(c)

    return {
        "changes": [change(c) for c in plan.changes if c.action is not Action.UNCHANGED],
        "unchanged": [unchanged(c) for c in plan.of(Action.UNCHANGED)],
        "errors": list(plan.errors),
        "orphans": list(plan.orphans),
    }


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 14


@pytest.mark.parametrize("path", case_params())
def test_plan_case(path: Path) -> None:
    case = load_case(path)
    project, environment = case["project"], case["environment"]
    marker = ownership_marker(project, environment)
    desired = [deployment(d, marker) for d in case.get("desired", [])]
    live = [live_deployment(d) for d in case.get("live", [])]
    flows = case.get("live_flows", {d.deployment.flow_name: d.flow_id for d in live})
    state = LiveState(
        deployments=tuple(live), flows=flows, work_pools=frozenset(case.get("live_pools", []))
    )

    plan = build_plan(
        project,
        environment,
        desired,
        state,
        prune=case.get("prune", False),
        adopt=case.get("adopt", False),
    )

    expected: dict[str, Any] = {"changes": [], "unchanged": [], "errors": [], "orphans": []}
    expected.update(case["expected"])
    actual = summary(plan)
    assert actual == expected
    # dict equality ignores order: the changed fields must come in the planner's order too
    assert [list(c.get("fields", {})) for c in actual["changes"]] == [
        list(c.get("fields", {})) for c in expected["changes"]
    ]
    # one change per declared deployment, in the declared order, then the deletions
    deletions = [c["key"] for c in expected["changes"] if c["action"] == Action.DELETE.value]
    assert [name(c) for c in plan.changes] == [d.full_name for d in desired] + deletions
    assert (plan.project, plan.environment, plan.marker) == (project, environment, marker)
    assert plan.flow_ids == flows
    desired_by_key = {d.key: d for d in desired}
    live_by_key = {d.key: d for d in live}
    for c in plan.changes:
        assert c.desired is (desired_by_key[c.key] if c.action in WITH_DESIRED else None)
        assert c.live is (live_by_key[c.key] if c.action in WITH_LIVE else None)
        assert (c.action is Action.UPDATE) == bool(c.fields)
