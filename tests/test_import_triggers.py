"""`flowfleet import prefect.yaml` carries each deployment's `triggers:` over: the exact
flowfleet.yaml and warnings, and that the imported triggers render to the automations
`prefect deploy` creates from the same file (Prefect's own DeploymentTrigger models)."""

from __future__ import annotations

import copy
import json
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import prefect
import pytest
import yaml
from packaging.version import Version
from prefect.cli.deploy._triggers import _initialize_deployment_triggers
from pydantic import TypeAdapter

from flowfleet.cli.main import dispatch
from flowfleet.plan.automations import named, normal_trigger
from tests.conftest import write_tree
from tests.test_import import dedent


def indent(text: str) -> str:
    """`text` as it is indented under a deployment entry."""
    return textwrap.indent(dedent(text), "    ")


FLOWS = {
    "flows/shop.py": dedent(
        """
        from prefect import flow


        @flow
        def orders(region: str = "eu", days: int = 7, note: str = ""):
            pass
        """
    )
}

# Every trigger shape prefect.yaml takes, written as Prefect's docs write them.
VALID = dedent(
    """
    pull:
    - prefect.deployments.steps.set_working_directory: {directory: /opt/shop}
    deployments:
    - name: nightly
      entrypoint: flows/shop.py:orders
      triggers:
        - enabled: true
          match:
            prefect.resource.id: my.external.resource
          expect:
            - external.resource.pinged
          parameters:
            region: "{{ event.resource.region }}"
            days: 2
        - name: order-silence
          description: no order for an hour
          posture: Proactive
          expect: [shop.order.created, shop.order.imported]
          for_each: [prefect.resource.id]
          match_related:
            - prefect.resource.role: flow
            - prefect.resource.role: tag
          after: [shop.opened]
          threshold: 2
          within: PT1H
          schedule_after: "00:00:30"
          job_variables: {env: {MODE: catch-up}}
        - type: compound
          require: all
          within: 3600
          enabled: false
          triggers:
            - expect: [shop.a]
            - match: {prefect.resource.id: "prefect.flow-run.*"}
              expect: [prefect.flow-run.Completed]
        - type: sequence
          triggers:
            - expect: [shop.first]
            - expect: [shop.second]
              posture: Proactive
    """
)

VALID_TRIGGERS = indent(
    """
        triggers:
          - enabled: true
            match:
              prefect.resource.id: my.external.resource
            expect:
              - external.resource.pinged
            parameters:
              region: '{{ event.resource.region }}'
              days: 2
          - name: order-silence
            description: no order for an hour
            posture: Proactive
            expect:
              - shop.order.created
              - shop.order.imported
            for_each:
              - prefect.resource.id
            match_related:
              - prefect.resource.role: flow
              - prefect.resource.role: tag
            after:
              - shop.opened
            threshold: 2
            within: 3600
            schedule_after: 30
            job_variables:
              env:
                MODE: catch-up
          - type: compound
            require: all
            within: 3600
            enabled: false
            triggers:
              - expect:
                  - shop.a
              - match:
                  prefect.resource.id: prefect.flow-run.*
                expect:
                  - prefect.flow-run.Completed
          - type: sequence
            triggers:
              - expect:
                  - shop.first
              - expect:
                  - shop.second
                posture: Proactive
    """
)

# What flowfleet's schema refuses, and Prefect's placeholders in triggers.
REFUSED = dedent(
    """
    build:
    - prefect_docker.deployments.steps.build_docker_image:
        id: build-image
        image_name: shop
    pull:
    - prefect.deployments.steps.set_working_directory: {directory: /opt/shop}
    deployments:
    - name: nightly
      entrypoint: flows/shop.py:orders
      triggers:
        - enabled: "{{ $TRIGGERS_ON }}"
          expects: [shop.order.created]
          parameters:
            region: "{{ $REGION }}"
            days: "{{ prefect.variables.days }}"
            note: "{{ event.payload.note }} costs ${X}"
        - name: "on-{{ build-image.tag }}"
          job_variables: {image: "{{ build-image.image }}"}
          within: soon
        - threshold: 0
        - type: webhook
        - on-order
        - type: compound
          require: any
          triggers:
            - expect: [a]
              colour: red
            - posture: Proactive
              within: 5
      triggers_extra: 1
    - name: plain
      entrypoint: flows/shop.py:orders
      triggers: {expect: [x]}
    """
)

REFUSED_TRIGGERS = indent(
    """
        triggers:
          - enabled: ${TRIGGERS_ON}
            parameters:
              region: ${REGION}
              days: '{{ prefect.variables.days }}'
              note: '{{ event.payload.note }} costs $${X}'
    """
)

REFUSED_WARNINGS = dedent(
    """
    prefect.yaml:1:1: warning: build and push steps left out: flowfleet does not build; CI builds and pushes the image and passes its tag in ${IMAGE} (see docs/ci-cd.md)
    prefect.yaml:15:15: warning: '{{ prefect.variables.days }}' kept as written: prefect deploy resolves it when deploying, flowfleet does not; write the value or a ${VAR}
    prefect.yaml:12:7: warning: 'expects' left out: not a trigger field (prefect deploy ignores it); did you mean 'expect'?
    prefect.yaml:17:13: warning: '{{ build-image.tag }}' kept as written: it is the output of a build or push step, which flowfleet does not run; write the value
    prefect.yaml:18:30: warning: '{{ build-image.image }}' (the image a build step made) is now ${IMAGE}: CI builds the image and sets IMAGE to its tag
    prefect.yaml:19:15: warning: trigger left out: within: expected a valid number, found the text 'soon'
    prefect.yaml:20:18: warning: trigger left out: threshold: expected a number greater than or equal to 1, found the number 0
    prefect.yaml:21:13: warning: trigger left out: unknown type 'webhook'; expected one of: event, metric, compound, sequence
    prefect.yaml:22:7: warning: trigger left out: expected a mapping, found the text 'on-order'
    prefect.yaml:27:11: warning: 'colour' left out: not a trigger field (prefect deploy ignores it); expected one of: type, match, match_related, after, expect, for_each, posture, threshold, within, metric, triggers, require
    prefect.yaml:29:19: warning: trigger left out: triggers[1].within: a Proactive trigger waits at least 10 seconds, found 5; set 10 or more (left out or 0: 10)
    prefect.yaml:30:3: warning: 'triggers_extra' left out: not a prefect.yaml deployment field
    prefect.yaml:33:13: warning: 'triggers' left out: expected a list of triggers, found a mapping
    """  # noqa: E501
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, FLOWS)
    return tmp_path


def test_triggers_carry_over_as_written(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Prefect's keys as they are, `{{ event }}` templates verbatim, durations in seconds."""
    write_tree(project, {"prefect.yaml": VALID})
    assert dispatch(["import", "prefect.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    entry = captured.out.split("  - name: nightly\n    entrypoint: flows/shop.py:orders\n")[1]
    assert entry == VALID_TRIGGERS


def test_refused_and_templated_trigger_fields_are_warned_at_their_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"prefect.yaml": REFUSED})
    assert dispatch(["import", "prefect.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.err == REFUSED_WARNINGS
    entry = captured.out.split("  - name: nightly\n    entrypoint: flows/shop.py:orders\n")[1]
    assert entry.split("  - name: plain\n")[0] == REFUSED_TRIGGERS


def test_a_variable_in_a_boolean_field_is_checked_when_flowfleet_loads_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`enabled: "{{ $TRIGGERS_ON }}"` is kept as ${TRIGGERS_ON}, read when rendering."""
    write_tree(project, {"prefect.yaml": REFUSED})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    monkeypatch.setenv("TRIGGERS_ON", "false")
    monkeypatch.setenv("REGION", "us")
    monkeypatch.setenv("IMAGE", "shop:1")
    capsys.readouterr()
    assert dispatch(["render", "--json"]) == 0
    [trigger] = json.loads(capsys.readouterr().out)["deployments"][0]["triggers"]
    assert trigger["enabled"] is False
    assert trigger["actions"][0]["parameters"] == {
        "region": "us",
        "days": "{{ prefect.variables.days }}",
        "note": "{{ event.payload.note }} costs ${X}",
    }


def test_imported_triggers_render_as_prefect_deploy_creates_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each rendered trigger equals Prefect's own `as_automation()` of the prefect.yaml
    trigger, field by field (trigger, actions, name, description, enabled), ids aside."""
    write_tree(project, {"prefect.yaml": VALID})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    assert dispatch(["validate"]) == 0
    capsys.readouterr()
    assert dispatch(["render", "--json"]) == 0
    [deployment] = json.loads(capsys.readouterr().out)["deployments"]

    specs = yaml.safe_load(VALID)["deployments"][0]["triggers"]
    deployment_id = uuid.uuid4()
    expected = []
    for trigger in _prefect_triggers(specs):
        trigger.set_deployment_id(deployment_id)
        expected.append(_comparable(trigger.as_automation().model_dump(mode="json")))
    names = {str(deployment_id): "orders/nightly"}
    for automation in expected:
        automation["actions"] = [named(a, names) for a in automation["actions"]]
    assert [_comparable(t) for t in deployment["triggers"]] == expected
    assert [t["name"] for t in expected] == [
        "nightly__automation_1",
        "order-silence",
        "nightly__automation_3",
        "nightly__automation_4",
    ]


def _prefect_triggers(specs: list[dict[str, Any]]) -> list[Any]:
    """Prefect's own triggers of the specs. Prefect 3.4 compares a Proactive trigger's
    `within` written as a duration text (`PT1H`) with a timedelta and fails (its `prefect
    deploy` of such a file fails too): there, the same triggers with durations in seconds."""
    try:
        return list(_initialize_deployment_triggers("nightly", copy.deepcopy(specs)))
    except TypeError:
        assert Version(prefect.__version__) < Version("3.9")
        seconds = TypeAdapter(timedelta)
        for spec in specs:
            if isinstance(spec.get("within"), str):
                spec["within"] = seconds.validate_python(spec["within"]).total_seconds()
        return list(_initialize_deployment_triggers("nightly", specs))


def _comparable(automation: dict[str, Any]) -> dict[str, Any]:
    fields = ("name", "description", "enabled", "trigger", "actions")
    result = {k: automation[k] for k in fields}
    result["trigger"] = normal_trigger(result["trigger"])
    return json.loads(json.dumps(result, sort_keys=True))
