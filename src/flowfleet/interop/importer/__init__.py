"""Prefect's `prefect.yaml` → flowfleet.yaml (`flowfleet import`).

The file is read with flowfleet's own safe loader (anchors, aliases and `<<` merges of
`definitions:` resolved; every value keeps its position for messages). What has a flowfleet
equivalent is converted; what has not is left out with a warning at its file:line:column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowfleet.config.document import DocPath, Document, parse_document
from flowfleet.config.load import ConfigWarning, project_slug
from flowfleet.errors import ConfigError, FlowfleetError
from flowfleet.interop.importer.context import Context
from flowfleet.interop.importer.deployments import deployment, pull_steps
from flowfleet.interop.importer.dump import dump_config

__all__ = ["Converted", "convert", "dump_config", "read_prefect_yaml"]

# flowfleet's loader substitutes ${VAR}; Prefect does not. Every "${" is hidden behind a
# private-use character (same length, so positions hold) and put back after parsing.
_HIDDEN = "\ue000"
_BUILD_AND_PUSH = (
    "build and push steps left out: flowfleet does not build; CI builds and pushes the "
    "image and passes its tag in ${IMAGE} (see docs/ci-cd.md)"
)


@dataclass(frozen=True)
class Converted:
    """The flowfleet config as plain data, and the warnings about what did not carry over."""

    config: dict[str, Any]
    warnings: tuple[ConfigWarning, ...]


def read_prefect_yaml(path: Path, display: str | None = None) -> Document:
    """Parse a prefect.yaml; every failure is a FlowfleetError naming the file."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowfleetError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    hide = _HIDDEN.encode() not in raw
    if hide:
        raw = raw.replace(b"${", _HIDDEN.encode() + b"{")
    document = parse_document(raw, file, environ={})
    if hide:
        document.data = _unhide(document.data)
    return document


def convert(document: Document, environment: str) -> Converted:
    """The deployments of a prefect.yaml as a flowfleet config with one environment."""
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a prefect.yaml: a mapping with 'deployments:'", document.locate(())
        )
    deployments = data.get("deployments")
    if not isinstance(deployments, list) or not deployments:
        where = ("deployments",) if "deployments" in data else ()
        raise ConfigError(
            "no deployments to convert: expected a non-empty 'deployments:' list",
            document.locate(where),
        )
    context = Context(document, _step_ids(data))
    _note_build_and_push(context, data)
    config: dict[str, Any] = {}
    project = context.text(("name",), data.get("name"), "the project name")
    if project:
        config["project"] = project_slug(project)
    shared_pull = pull_steps(context, ("pull",), data.get("pull"))
    if shared_pull:
        config["defaults"] = {"pull_steps": shared_pull}
    config["environments"] = {environment: {}}
    config["deployments"] = [deployment(context, i, d) for i, d in enumerate(deployments)]
    return Converted(config, context.warnings)


def _unhide(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(_HIDDEN, "$")
    if isinstance(value, dict):
        return {key.replace(_HIDDEN, "$"): _unhide(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unhide(item) for item in value]
    return value


def _actions(data: dict[str, Any]) -> list[tuple[DocPath, Any]]:
    """Every build and push section, at the top and in each deployment."""
    found: list[tuple[DocPath, Any]] = [((key,), data.get(key)) for key in ("build", "push")]
    for i, entry in enumerate(data.get("deployments") or []):
        if isinstance(entry, dict):
            found += [(("deployments", i, key), entry.get(key)) for key in ("build", "push")]
    return [(path, steps) for path, steps in found if steps]


def _step_ids(data: dict[str, Any]) -> frozenset[str]:
    """The `id`s of build and push steps: their outputs only exist when prefect deploy runs."""
    ids = set()
    for _, steps in _actions(data):
        for step in steps if isinstance(steps, list) else [steps]:
            for options in step.values() if isinstance(step, dict) else []:
                if isinstance(options, dict) and isinstance(options.get("id"), str):
                    ids.add(options["id"])
    return frozenset(ids)


def _note_build_and_push(context: Context, data: dict[str, Any]) -> None:
    actions = _actions(data)
    if actions:
        context.warn(actions[0][0], _BUILD_AND_PUSH, key=True)
