"""The automations `prefect deploy` made of a deployment's triggers carry no tags, so they
are read as standalone automations; the plan still finds them as the declared trigger
(same name, run action of that deployment): a conflict, or with --adopt an update of the
tags only, never a second automation."""

from __future__ import annotations

import pytest

from flowfleet.config.automations import DeploymentEventTrigger
from flowfleet.model.items import Item
from flowfleet.model.resources import Deployment
from flowfleet.plan.automations import desired_automations, live_automation, plan_automations
from flowfleet.plan.change import Action
from flowfleet.render.automations import deployment_triggers

MARKER = "flowfleet:shop/dev"
DAILY_ID = "d-1"
NAMES = {DAILY_ID: "f/daily", "d-2": "f/other"}


TRIGGER = DeploymentEventTrigger(expect=["shop.order.created"], parameters={"n": 1})


def _desired() -> list[Item]:
    [trigger] = deployment_triggers("daily", "f/daily", [TRIGGER])
    deployment = Deployment(flow_name="f", name="daily", entrypoint="f.py:f", triggers=(trigger,))
    return desired_automations([deployment], [], MARKER)


def _live(deployment_id: str, tags: list[str]) -> Item:
    """The trigger's automation as the server answers for what prefect deploy sent."""
    [trigger] = deployment_triggers("daily", "f/daily", [TRIGGER])
    data = trigger.model_dump(mode="json")
    action = dict(data["actions"][0])
    del action["deployment"]
    data |= {"id": "a-1", "tags": tags, "actions": [action | {"deployment_id": deployment_id}]}
    return live_automation(data, NAMES)


@pytest.mark.parametrize(
    ("adopt", "action", "fields"),
    [(False, Action.CONFLICT, []), (True, Action.UPDATE, ["tags"])],
)
def test_prefect_deploys_trigger_is_the_declared_one(
    adopt: bool, action: Action, fields: list[str]
) -> None:
    live = _live(DAILY_ID, [])
    assert live.key == ("automation", "daily__automation_1")  # as read: no trigger tag
    [change] = plan_automations(
        _desired(), [live], MARKER, deployments={"f/daily"}, prune=False, adopt=adopt
    )
    assert (change.action, change.key, change.live) == (
        action,
        ("trigger", "f/daily/daily__automation_1"),
        live,
    )
    assert [f.field for f in change.fields] == fields


@pytest.mark.parametrize(
    ("deployment_id", "tags"),
    [("d-2", []), (DAILY_ID, ["ops"]), (DAILY_ID, ["flowfleet:other/dev"])],
    ids=["runs-another-deployment", "has-tags", "another-projects"],
)
def test_other_automations_of_that_name_are_not_it(deployment_id: str, tags: list[str]) -> None:
    live = _live(deployment_id, tags)
    [change] = plan_automations(
        _desired(), [live], MARKER, deployments={"f/daily"}, prune=False, adopt=True
    )
    assert change.action is Action.CREATE
