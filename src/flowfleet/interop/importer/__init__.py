"""Prefect's `prefect.yaml` → flowfleet.yaml (`flowfleet import`).

The file is read with flowfleet's own safe loader (anchors, aliases and `<<` merges of
`definitions:` resolved; every value keeps its position for messages). What has a flowfleet
equivalent is converted; what has not is left out with a warning at its file:line:column.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from flowfleet.config.document import DocPath, Document, parse_document
from flowfleet.config.load import ConfigWarning, project_slug
from flowfleet.errors import ConfigError, FlowfleetError, Location
from flowfleet.interop.importer.context import Context
from flowfleet.interop.importer.deployments import deployment, pull_steps
from flowfleet.interop.importer.dump import dump_config
from flowfleet.interop.importer.duplicates import Duplicate, drop_earlier_duplicates

__all__ = ["Converted", "convert", "dump_config", "read_prefect_yaml"]

# flowfleet's loader substitutes ${VAR}; Prefect does not. Every "${" is hidden behind a
# private-use character (same length, so positions hold) and put back after parsing.
_HIDDEN = "\ue000"
_BUILD_AND_PUSH = (
    "build and push steps left out: flowfleet does not build; CI builds and pushes the "
    "image and passes its tag in ${IMAGE} (see docs/ci-cd.md)"
)

_NO_PULL = (
    "deployment '{name}' has no pull steps; prefect deploy would store set_working_directory"
    " to the folder it ran in (/opt/prefect/<folder> if it built an image), a path of that"
    " machine, so none is written: add pull_steps (e.g. set_working_directory to where the"
    " worker has the code), or a worker cannot find the flow file"
)


@dataclass(frozen=True)
class Converted:
    """The flowfleet config as plain data, and the warnings about what did not carry over."""

    config: dict[str, Any]
    warnings: tuple[ConfigWarning, ...]


@dataclass
class PrefectDocument(Document):
    """A parsed prefect.yaml, and the duplicate keys whose earlier values were dropped."""

    duplicates: tuple[Duplicate, ...] = ()


def read_prefect_yaml(path: Path, display: str | None = None) -> PrefectDocument:
    """Parse a prefect.yaml; every failure is a FlowfleetError naming the file. A key given
    twice in a mapping keeps its last value, as Prefect does (see duplicates.py)."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowfleetError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    hide = _HIDDEN.encode() not in raw
    if hide:
        raw = raw.replace(b"${", _HIDDEN.encode() + b"{")
    duplicates: list[Duplicate] = []
    try:
        text, duplicates = drop_earlier_duplicates(raw.decode("utf-8-sig"))
        raw = text.encode() if duplicates else raw
    except UnicodeDecodeError:
        pass  # the loader reports it
    document = parse_document(raw, file, environ={})
    if hide:
        document.data = _unhide(document.data)
    values = {f.name: getattr(document, f.name) for f in fields(Document)}
    return PrefectDocument(**values, duplicates=tuple(duplicates))


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
    for duplicate in getattr(document, "duplicates", ()):
        _note_duplicate(context, document.file, duplicate)
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
    if not shared_pull:
        for index, entry in enumerate(config["deployments"]):
            if "pull_steps" not in entry:
                context.warn(("deployments", index), _NO_PULL.format(name=entry["name"]))
    return Converted(config, context.warnings)


def _note_duplicate(context: Context, file: str, duplicate: Duplicate) -> None:
    key, (first, _), (last, _) = duplicate.key, duplicate.first, duplicate.last
    context.warn_at(
        Location(file, *duplicate.first),
        f"duplicate key '{key}' (given again on line {last}): Prefect keeps the last value, so"
        " the import does too and leaves this one out; remove one of them",
    )
    context.warn_at(
        Location(file, *duplicate.last),
        f"duplicate key '{key}' (first on line {first}): this last value is the one Prefect"
        " reads, and the one imported",
    )


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
