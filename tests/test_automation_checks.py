"""Offline checks of automations against what Prefect itself does: the loop the server
refuses (422), the values the server renders when an automation fires (exempt from the
parameter check), and what validate accepts that it cannot resolve offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect.server.events.schemas.automations import AutomationCore
from pydantic import ValidationError

from flowfleet.cli.main import dispatch
from flowfleet.config.load import load_text
from flowfleet.render.automation_checks import endless_loop, templated
from flowfleet.render.infrastructure import render_automations
from flowfleet.server.automations import with_ids
from tests.conftest import write_tree
from tests.test_automations_render import (
    DEPLOYMENT_ID,
    as_sent,
    flowfleet_automations,
    rendered_deployment,
    standalone,
)

# --- what the server refuses as an endless loop, offline ------------------------------

RUN_INFERRED = {"type": "run-deployment"}
RUN_SELECTED = {"type": "run-deployment", "deployment": "hello/daily"}
LOOPS: dict[str, tuple[dict[str, Any], list[dict[str, Any]], bool]] = {
    # name: (trigger, actions, does the server refuse it)
    "inferred on Running": ({"expect": ["prefect.flow-run.Running"]}, [RUN_INFERRED], True),
    "inferred on any flow-run event": ({"expect": ["prefect.flow-run.*"]}, [RUN_INFERRED], True),
    "inferred on Completed": ({"expect": ["prefect.flow-run.Completed"]}, [RUN_INFERRED], False),
    "selected on Scheduled, unfiltered": (
        {"expect": ["prefect.flow-run.Scheduled"]},
        [RUN_SELECTED],
        True,
    ),
    "selected, match of every flow run": (
        {
            "expect": ["prefect.flow-run.Pending"],
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
        },
        [RUN_SELECTED],
        True,
    ),
    "selected, match narrowed": (
        {"expect": ["prefect.flow-run.Pending"], "match": {"prefect.resource.name": "etl-*"}},
        [RUN_SELECTED],
        False,
    ),
    "selected, match_related narrowed": (
        {
            "expect": ["prefect.flow-run.Running"],
            "match_related": {"prefect.resource.role": "flow"},
        },
        [RUN_SELECTED],
        False,
    ),
    "selected, match_related an empty list": (
        {"expect": ["prefect.flow-run.Running"], "match_related": []},
        [RUN_SELECTED],
        False,
    ),
    "selected, one of the related of every flow run": (
        {
            "expect": ["prefect.flow-run.Running"],
            "match_related": [
                {"prefect.resource.role": "flow"},
                {"prefect.resource.id": ["prefect.flow-run.*"]},
            ],
        },
        [RUN_SELECTED],
        True,
    ),
    "Proactive": (
        {"expect": ["prefect.flow-run.Running"], "posture": "Proactive"},
        [RUN_INFERRED],
        False,
    ),
    "not a run": ({"expect": ["prefect.flow-run.Running"]}, [{"type": "cancel-flow-run"}], False),
    "compound": (
        {"require": "any", "triggers": [{"expect": ["prefect.flow-run.Running"]}]},
        [RUN_INFERRED],
        False,
    ),
}


@pytest.mark.parametrize(("trigger", "actions", "refused"), LOOPS.values(), ids=LOOPS.keys())
@pytest.mark.parametrize("enabled", [True, False])
def test_validate_refuses_the_loops_the_server_refuses(
    trigger: dict[str, Any],
    actions: list[dict[str, Any]],
    refused: bool,
    enabled: bool,
    tmp_path: Path,
) -> None:
    spec = {"trigger": trigger, "actions": actions, "enabled": enabled}
    automation = standalone(spec, tmp_path)
    ids = {("deployment", "hello/daily"): DEPLOYMENT_ID}
    body = automation.model_dump(mode="json") | {"actions": with_ids(automation.actions, ids)}
    try:
        AutomationCore.model_validate(body)
        server_refuses = False
    except ValidationError as exc:
        assert "infinite loop" in str(exc)
        server_refuses = True
    assert server_refuses is (refused and enabled)
    assert (endless_loop(automation) is not None) is server_refuses


def test_a_deployment_trigger_that_loops_is_found(tmp_path: Path) -> None:
    specs = [{"expect": ["prefect.flow-run.Running"]}]
    [automation] = rendered_deployment(specs, tmp_path).triggers
    [item] = flowfleet_automations(specs, tmp_path)
    assert endless_loop(automation) is not None
    with pytest.raises(ValidationError, match="infinite loop"):
        AutomationCore.model_validate(as_sent(item))


# --- templated parameter values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{ event.id }}", True),
        ("order {{ event.id }}", True),
        ("{% if x %}a{% endif %}", True),
        ({"__prefect_kind": "jinja", "template": "x"}, True),
        ({"__prefect_kind": "workspace_variable", "variable_name": "v"}, True),
        ({"a": ["b", {"c": "{{ event }}"}]}, True),
        ("{ event }", False),
        ("plain", False),
        (3, False),
        ({"a": [1, "b"]}, False),
        (None, False),
    ],
)
def test_templated_values_are_those_the_server_renders(value: Any, expected: bool) -> None:
    assert templated(value) is expected


# --- what validate accepts --------------------------------------------------------------

HELLO_FLOW = (
    "from prefect import flow\n\n\n@flow(name='hello')\n"
    "def hello(number: int, name: str = 'world') -> None:\n    print(number, name)\n"
)
ACCEPTED = """\
project: shop
environments:
  dev: {local: true}
  prod: {local: true}
automations:
  rerun-in-prod:
    trigger: {expect: [orders.failed]}
    actions:
      - type: run-deployment
        deployment: "hello/nightly-{env}"   # declared for prod only: checked there only
        parameters:
          number: "{{ event.payload.count }}"
          name: {__prefect_kind: jinja, template: x}
  on-enter-only:
    trigger: {expect: [a], posture: Proactive}
    actions_on_trigger: [{type: pause-work-queue, work_queue: "pool-{env}/critical"}]
deployments:
  - name: daily
    entrypoint: flows/hello.py:hello
    parameters: {number: 1}
    triggers:
      - expect: [orders.placed]
        parameters: {number: "{{ event.payload.n }}", name: "order {{ event.id }}"}
  - name: nightly-prod
    entrypoint: flows/hello.py:hello
    environments: {prod: {}}
    parameters: {number: 2}
"""


def test_validate_accepts_templates_and_references_it_cannot_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"flowfleet.yaml": ACCEPTED, "flows/hello.py": HELLO_FLOW})
    monkeypatch.chdir(tmp_path)
    assert dispatch(["validate"]) == 0, capsys.readouterr().err
    loaded = load_text(ACCEPTED, tmp_path, display="flowfleet.yaml")
    dev = {a.name: a for a in render_automations(loaded.config.automations, "dev")}
    assert dev["on-enter-only"].actions == ()  # only actions_on_trigger: rendered, not left out
    assert dev["on-enter-only"].actions_on_trigger[0]["work_queue"] == "pool-dev/critical"
    assert dev["rerun-in-prod"].actions[0]["deployment"] == "hello/nightly-dev"


def test_a_wrong_value_next_to_a_template_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ACCEPTED.replace('name: "order {{ event.id }}"', "name: [1]")
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/hello.py": HELLO_FLOW})
    monkeypatch.chdir(tmp_path)
    assert dispatch(["validate"]) == 1
    assert capsys.readouterr().err == (
        "flowfleet.yaml:23:61: trigger 'daily__automation_1': parameter 'name' of "
        "flow 'hello': expected string, found [1] (a list) [dev, prod]\n"
        "1 problem found; nothing was changed.\n"
    )
