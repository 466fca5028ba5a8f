"""Pure part of `flowfleet export` for automations: which become a deployment's triggers
and which top-level automations, the compact form, default names, and what is skipped
(with the exact warning). The server round trip is tests/integration/test_export.py."""

from __future__ import annotations

from typing import Any

from flowfleet.interop.export_automations import export_automations

DAILY, OTHER, POOL = "d-1", "d-2", "p-1"
NAMES = {DAILY: "f/daily", OTHER: "f/other", POOL: "pool-a"}
EXPORTED = {DAILY: "f/daily"}  # f/other is on the server, not exported


def _event(**fields: Any) -> dict[str, Any]:
    """An event trigger as the server answers it: every field, with an id."""
    base = {"type": "event", "id": "t-1", "match": {}, "match_related": {}, "after": []}
    base |= {"expect": [], "for_each": [], "posture": "Reactive", "threshold": 1, "within": 0.0}
    return base | fields


def _runs(deployment: str, **fields: Any) -> dict[str, Any]:
    action = {"type": "run-deployment", "source": "selected", "deployment_id": deployment}
    return action | {"parameters": None, "job_variables": None, "schedule_after": 0.0} | fields


def _automation(name: str, *actions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    base = {"id": f"a-{name}", "name": name, "description": "", "enabled": True, "tags": []}
    base |= {"trigger": _event(expect=[name]), "actions": list(actions)}
    return base | {"actions_on_trigger": [], "actions_on_resolve": []} | fields


def test_a_deployments_triggers_take_their_default_names_where_they_can() -> None:
    """`daily__automation_<n>` goes to place n (whatever the server's order), the others
    fill the gaps with their names; one that cannot be at its place keeps its name."""
    found = [
        _automation("daily__automation_2", _runs(DAILY, schedule_after=30.0)),
        _automation("zeta", _runs(DAILY, parameters={"x": "{{ event.id }}"})),
        _automation("daily__automation_9", _runs(DAILY)),
        _automation("daily__automation_1", _runs(DAILY), enabled=False, description="d"),
    ]
    result = export_automations(found, NAMES, EXPORTED, environment="dev", related_only=False)
    assert result.warnings == []
    assert result.automations == {}
    assert result.triggers == {
        "f/daily": [
            {"description": "d", "enabled": False, "expect": ["daily__automation_1"]},
            {"expect": ["daily__automation_2"], "schedule_after": 30},
            {"name": "daily__automation_9", "expect": ["daily__automation_9"]},
            {"name": "zeta", "expect": ["zeta"], "parameters": {"x": "{{ event.id }}"}},
        ]
    }


def test_flowfleet_tags_say_whether_it_is_a_trigger_or_a_standalone_automation() -> None:
    marker = "flowfleet:shop/dev"
    found = [
        _automation("mine", _runs(DAILY), tags=[marker, "flowfleet:trigger"]),
        _automation("standalone", _runs(DAILY), tags=[marker]),
        _automation("tagged", _runs(DAILY), tags=["ops"]),
    ]
    result = export_automations(found, NAMES, EXPORTED, environment="dev", related_only=False)
    assert result.triggers == {"f/daily": [{"name": "mine", "expect": ["mine"]}]}
    assert result.automations == {
        "standalone": {
            "trigger": {"expect": ["standalone"]},
            "actions": [{"type": "run-deployment", "deployment": "f/daily"}],
        },
        "tagged": {
            "tags": ["ops"],
            "trigger": {"expect": ["tagged"]},
            "actions": [{"type": "run-deployment", "deployment": "f/daily"}],
        },
    }


def test_compact_triggers_and_actions() -> None:
    """Defaults left out (a Proactive trigger's 10 s too), sets sorted, seconds as whole
    numbers, `type` only where Prefect cannot infer it, references by name."""
    proactive = _event(posture="Proactive", within=10.0, expect=["b", "a"], for_each=["x"])
    nested = {"type": "sequence", "id": "t-2", "within": None, "triggers": [proactive]}
    compound = {"type": "compound", "id": "t-3", "require": 2, "within": 60.0}
    compound["triggers"] = [nested, _event(match={"prefect.resource.id": "r"})]
    found = [
        _automation(
            "all",
            {"type": "pause-work-pool", "source": "selected", "work_pool_id": POOL},
            {"type": "pause-work-pool", "source": "inferred", "work_pool_id": None},
            {"type": "change-flow-run-state", "state": "FAILED", "name": None, "message": None,
             "force": True},
            {"type": "send-notification", "block_document_id": "b-1", "body": "x",
             "subject": "Prefect automated notification"},
            trigger=compound,
            actions_on_trigger=[{"type": "do-nothing"}],
        ),
    ]  # fmt: skip
    names = {**NAMES, "b-1": "slack-webhook/alerts"}
    result = export_automations(found, names, EXPORTED, environment="dev", related_only=False)
    assert result.warnings == []
    assert result.automations == {
        "all": {
            "trigger": {
                "type": "compound",
                "require": 2,
                "within": 60,
                "triggers": [
                    {
                        "type": "sequence",
                        "triggers": [
                            {"expect": ["a", "b"], "for_each": ["x"], "posture": "Proactive"}
                        ],
                    },
                    {"match": {"prefect.resource.id": "r"}},
                ],
            },
            "actions": [
                {"type": "pause-work-pool", "work_pool": "pool-a"},
                {"type": "pause-work-pool"},
                {"type": "change-flow-run-state", "state": "FAILED", "force": True},
                {"type": "send-notification", "block": "slack-webhook/alerts", "body": "x"},
            ],
            "actions_on_trigger": [{"type": "do-nothing"}],
        }
    }


def test_some_flows_only_the_automations_about_their_deployments() -> None:
    found = [
        _automation("other-trigger", _runs(OTHER)),
        _automation("pause-daily", {"type": "pause-deployment", "source": "selected",
                                    "deployment_id": DAILY}),
        _automation("pause-other", {"type": "pause-deployment", "source": "selected",
                                    "deployment_id": OTHER}),
    ]  # fmt: skip
    some = export_automations(found, NAMES, EXPORTED, environment="dev", related_only=True)
    assert list(some.automations) == ["pause-daily"]
    assert some.triggers == {}
    every = export_automations(found, NAMES, EXPORTED, environment="dev", related_only=False)
    assert list(every.automations) == ["pause-daily", "pause-other"]
    assert every.triggers == {}  # other-trigger belongs to a deployment not exported


def test_what_cannot_be_declared_is_skipped_with_a_warning() -> None:
    """A skipped trigger moves the next one's place: it then keeps its name."""
    found = [
        _automation("daily__automation_1", _runs(DAILY), trigger={"type": "new", "id": "x"}),
        _automation("daily__automation_2", _runs(DAILY)),
        _automation("incident", {"type": "declare-incident"}),
        _automation("gone", {"type": "pause-work-queue", "source": "selected",
                             "work_queue_id": "q-9"}),
        _automation("newer", {"type": "do-nothing"}, trigger=_event(expect=["x"], sla=5)),
        # an answer without a field flowfleet sends (as the server has it: unknown)
        _automation("older", {"type": "change-flow-run-state", "state": "FAILED"}),
        # `{env}` is the environment's name in a config: it would not read back as written
        _automation("literal", {"type": "call-webhook", "block_document_id": "b-1",
                                "payload": "to {env}"}),
    ]  # fmt: skip
    names = {**NAMES, "b-1": "webhook/hook"}
    result = export_automations(found, names, EXPORTED, environment="dev", related_only=False)
    assert result.warnings == [
        "automation 'incident': skipped: its action 'declare-incident' is not one flowfleet "
        "knows; declare it by hand",
        "automation 'gone': skipped: its action 'pause-work-queue' refers to a work queue "
        "(q-9) not on the server; declare it by hand",
        "automation 'newer': skipped: flowfleet does not know its 'trigger.sla'; declare it by "
        "hand",
        "automation 'older': skipped: its actions would not read back as on the server; declare "
        "it by hand",
        "automation 'literal': skipped: its actions would not read back as on the server; "
        "declare it by hand",
        "f/daily: trigger 'daily__automation_1': skipped: its trigger's type 'new' is not one "
        "flowfleet knows; declare it by hand",
    ]
    assert result.automations == {}
    assert result.triggers == {
        "f/daily": [{"name": "daily__automation_2", "expect": ["daily__automation_2"]}]
    }
