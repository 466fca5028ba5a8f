"""A prefect.yaml with triggers: `prefect deploy` on one server, `flowfleet import` +
`apply` on the other; the automations are equal field by field (trigger, actions,
owner), except the ids (and flowfleet's ownership tags)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.plan.automations import normal_trigger
from tests.integration.conftest import Project, api, read_deployment
from tests.integration.test_export import prefect_deploy

pytestmark = pytest.mark.xdist_group("servers")

TRIGGERS: list[dict[str, Any]] = [
    {
        "enabled": True,
        "match": {"prefect.resource.id": "my.external.resource"},
        "expect": ["external.resource.pinged"],
        "parameters": {"name": "{{ event.resource.id }}", "number": 2},
    },
    {
        "name": "quiet-for-a-while",
        "description": "no heartbeat",
        "posture": "Proactive",
        "expect": ["heartbeat", "beat"],
        "within": 60,
        "for_each": ["prefect.resource.id"],
        "match_related": [{"prefect.resource.role": "flow"}, {"prefect.resource.id": ["x", "y"]}],
        "threshold": 2,
        "schedule_after": 30,
        "job_variables": {"env": {"WHY": "quiet"}},
    },
    {
        "type": "compound",
        "require": "any",
        "within": 120,
        "triggers": [{"expect": ["a"]}, {"expect": ["b"], "match": {"x": "y"}}],
    },
    {"triggers": [{"expect": ["first"]}, {"expect": ["second"]}], "enabled": False},
]


def _prefect_yaml(project: Project) -> dict[str, Any]:
    return {
        "name": "with-triggers",
        "pull": [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(project.root)}}
        ],
        "deployments": [
            {
                "name": "evented",
                "entrypoint": "flows/main.py:main",
                "work_pool": {"name": "shared-pool"},
                "triggers": TRIGGERS,
            }
        ],
    }


def _owned_by(url: str, deployment_id: str) -> list[dict[str, Any]]:
    found = api(url, "GET", f"/automations/related-to/prefect.deployment.{deployment_id}")
    return sorted(found, key=lambda a: a["name"])


def _comparable(automation: dict[str, Any], deployment_id: str) -> dict[str, Any]:
    """Everything but ids, timestamps and tags; the deployment's id as a placeholder."""
    actions = [
        {**a, "deployment_id": "<the deployment>"} if a.get("deployment_id") == deployment_id else a
        for a in automation["actions"]
    ]
    return {
        "name": automation["name"],
        "description": automation["description"],
        "enabled": automation["enabled"],
        "trigger": normal_trigger(automation["trigger"]),
        "actions": actions,
        "actions_on_trigger": automation["actions_on_trigger"],
        "actions_on_resolve": automation["actions_on_resolve"],
    }


def test_imported_triggers_apply_as_prefect_deploy_makes_them(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev, prod = project.servers.url("dev"), project.servers.url("prod")
    prefect_yaml = project.root / "prefect.yaml"
    prefect_yaml.write_text(yaml.safe_dump(_prefect_yaml(project), sort_keys=False))
    prefect_deploy(project, dev)
    theirs_deployment = read_deployment(dev, project.flow, "evented")
    assert theirs_deployment is not None

    code = dispatch(["import", str(prefect_yaml), "-e", "prod", "-o", str(project.config)])
    assert code == 0, capsys.readouterr().err
    assert "triggers" in yaml.safe_load(project.config.read_text())["deployments"][0]
    monkeypatch.setenv("PREFECT_API_URL", prod)
    assert dispatch(["apply", "--yes", "-f", str(project.config)]) == 0, capsys.readouterr()
    ours_deployment = read_deployment(prod, project.flow, "evented")
    assert ours_deployment is not None

    theirs = _owned_by(dev, theirs_deployment["id"])
    ours = _owned_by(prod, ours_deployment["id"])
    assert len(theirs) == len(TRIGGERS)
    assert [_comparable(a, ours_deployment["id"]) for a in ours] == [
        _comparable(a, theirs_deployment["id"]) for a in theirs
    ]
    # Owned by the deployment on both: deleting what it owns deletes them all.
    for url, deployment in ((dev, theirs_deployment), (prod, ours_deployment)):
        api(url, "DELETE", f"/automations/owned-by/prefect.deployment.{deployment['id']}")
        assert _owned_by(url, deployment["id"]) == []
