"""The files `flowfleet init` writes, as text: pure, from the templates next to this module.

Templates mark what varies with `@NAME@` (braces and `${...}` belong to YAML, GitHub
Actions and the shell, so they cannot be the markers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from flowfleet.interop.scaffold.discover import FoundFlow
from flowfleet.interop.scaffold.placeholders import required_placeholders

CONFIG = "flowfleet.yaml"
ECS_TEMPLATE = "infrastructure/ecs.json"
PLACEHOLDER_NOTE = "required: a placeholder, set the real value"


@dataclass(frozen=True)
class ScaffoldFile:
    """One file to write: its path relative to the repository, its text, and what to say
    when the file already exists."""

    path: str
    content: str
    if_exists: str = ""


def template(name: str) -> str:
    """The text of one template shipped in this package."""
    return (
        resources.files(__package__ or "flowfleet.interop.scaffold")
        .joinpath(name)
        .read_text("utf-8")
    )


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each `@NAME@` marker; every marker in the text must be given."""
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def workflow_files(flowfleet_requirement: str) -> list[ScaffoldFile]:
    """The two GitHub Actions workflows (pull request plan, deploy on push)."""
    values = {"FLOWFLEET": flowfleet_requirement}
    return [
        ScaffoldFile(f".github/workflows/{name}", fill(template(f"{name}.tmpl"), values))
        for name in ("flowfleet-plan.yml", "flowfleet-deploy.yml")
    ]


def scaffold_files(
    project: str,
    flows: Sequence[FoundFlow],
    flowfleet_requirement: str,
    ecs_template: dict[str, Any],
) -> list[ScaffoldFile]:
    """Every file of a scaffolded repository, in the order they are written."""
    project_values = {"PROJECT": project}
    return [
        ScaffoldFile(CONFIG, config_text(project, flows)),
        ScaffoldFile("Dockerfile", fill(template("Dockerfile.tmpl"), project_values)),
        ScaffoldFile(".dockerignore", template("dockerignore.tmpl")),
        ScaffoldFile(
            "requirements.txt",
            template("requirements.txt.tmpl"),
            if_exists="make sure it lists prefect-aws (the ECS worker)",
        ),
        *workflow_files(flowfleet_requirement),
        ScaffoldFile(ECS_TEMPLATE, json.dumps(ecs_template, indent=2) + "\n"),
    ]


def config_text(project: str, flows: Sequence[FoundFlow]) -> str:
    """flowfleet.yaml with dev and prod, an ECS pool each, and one deployment per flow."""
    deployments = deployments_block(flows)
    return fill(template("flowfleet.yaml.tmpl"), {"PROJECT": project, "DEPLOYMENTS": deployments})


def deployments_block(flows: Sequence[FoundFlow]) -> str:
    """`deployments:` with one entry per flow, required parameters as marked placeholders
    (without the final newline: the template has it)."""
    if not flows:
        return (
            "deployments: []\n"
            "  # No flows were found. Declare one entry per deployment, e.g.:\n"
            "  # - name: daily\n"
            "  #   entrypoint: flows/etl.py:run_etl\n"
            "  #   parameters: {source: orders}\n"
            '  #   schedules: [{cron: "0 6 * * *", timezone: UTC}]'
        )
    lines = ["deployments:"]
    for found, name in zip(flows, deployment_names(flows), strict=True):
        lines += _deployment_lines(found, name)
    return "\n".join(lines)


def deployment_names(flows: Sequence[FoundFlow]) -> list[str]:
    """`default` for each flow; a flow name used twice gets `default-2`, ... (a deployment
    is identified by its flow name and its own name)."""
    seen: dict[str, int] = {}
    names = []
    for found in flows:
        count = seen[found.flow.name] = seen.get(found.flow.name, 0) + 1
        names.append("default" if count == 1 else f"default-{count}")
    return names


def _deployment_lines(found: FoundFlow, name: str) -> list[str]:
    lines = [
        f"  - name: {name}",
        f"    entrypoint: {_scalar(found.entrypoint)}  # flow '{found.flow.name}'",
    ]
    placeholders = required_placeholders(found.flow)
    if placeholders:
        lines.append("    parameters:")
        lines += [
            f"      {key}: {_flow_value(value)}  # {PLACEHOLDER_NOTE}"
            for key, value in placeholders.items()
        ]
    return lines


def _scalar(text: str) -> str:
    """Plain when that is unambiguous YAML, else quoted."""
    return text if re.fullmatch(r"[A-Za-z0-9_][\w./:-]*", text) else json.dumps(text)


def _flow_value(value: Any) -> str:
    """A YAML flow-style value: JSON is valid YAML."""
    return json.dumps(value, ensure_ascii=False)
