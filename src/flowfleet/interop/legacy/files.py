"""Reading the per-environment files for `flowfleet import`: each is loaded as flowfleet
loads it (so an invalid file fails here, at its line), and read a second time with its
`${VAR}` references kept as written, which is what the new file must say."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowfleet.config.base import number_as_written
from flowfleet.config.document import Document
from flowfleet.config.load import LoadedConfig, load_config, project_slug
from flowfleet.errors import ConfigError, FlowfleetError, Location
from flowfleet.interop.importer import read_prefect_yaml
from flowfleet.interop.legacy.merge import OldDeployment
from flowfleet.render.deployments import plain

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class LegacySource:
    """One environment's file: validated, and as written."""

    environment: str
    loaded: LoadedConfig
    document: Document

    @property
    def ib_block(self) -> str | None:
        block = self.document.data.get("ib-block")
        return str(number_as_written(block)) if block is not None else None

    def ib_block_location(self) -> Location:
        return self.document.locate(("ib-block",), key=True)


def environment_files(arguments: Sequence[str]) -> list[tuple[str, Path]]:
    """`FILE` (the environment is named after the file, as `validate` names it) or
    `NAME=FILE`, each environment once."""
    result: list[tuple[str, Path]] = []
    for argument in arguments:
        name, sep, file = argument.partition("=")
        path = Path(file if sep else argument)
        environment = name if sep else project_slug(path.stem)
        if not (file if sep else argument):
            raise FlowfleetError(f"'{argument}': expected FILE or NAME=FILE, e.g. dev=dev.yaml")
        if not _NAME.fullmatch(environment) or len(environment) > 100:
            raise FlowfleetError(
                f"'{environment}' (from {argument}) is not a valid environment name; use "
                "letters, digits, '_', '.' and '-', starting with a letter or digit; name it "
                "with NAME=FILE"
            )
        if any(environment == seen for seen, _ in result):
            raise FlowfleetError(
                f"environment '{environment}' is given twice ({argument}); name each file's "
                "environment once, e.g. dev=deploy/dev.yaml prod=deploy/prod.yaml"
            )
        result.append((environment, path))
    return result


def read_legacy(environment: str, path: Path) -> LegacySource:
    """One per-environment file; a file in the flowfleet format is an error."""
    loaded = load_config(path, environment=environment)
    if loaded.format != "legacy":
        raise ConfigError(
            "expected a file in the older per-environment format ('ib-block:' and "
            "'deployments:'); this one is already a flowfleet.yaml: give only the "
            "per-environment files",
            loaded.document.locate(()),
        )
    return LegacySource(environment, loaded, read_prefect_yaml(path, loaded.file))


def old_deployments(source: LegacySource) -> list[OldDeployment]:
    """The file's deployments in flowfleet terms, values as written."""
    return [_old(raw) for raw in source.document.data.get("deployments") or []]


def _old(raw: dict[str, Any]) -> OldDeployment:
    values: dict[str, Any] = {}
    if raw.get("parameters"):
        values["parameters"] = list(plain(raw["parameters"]).items())
    if raw.get("tags"):
        values["tags"] = list(dict.fromkeys(_text(t) for t in raw["tags"]))
    if raw.get("schedule") is not None:
        values["schedules"] = [_schedule(raw["schedule"])]
    for name in ("version", "description"):
        if raw.get(name) is not None:
            values[name] = _text(raw[name])
    pool = raw.get("work_pool") or {}
    for name in ("name", "work_queue_name"):
        if pool.get(name) is not None:
            values[f"work_pool.{name}"] = _text(pool[name])
    if raw.get("protected") is not None:
        values["protected"] = raw["protected"]
    return OldDeployment(_text(raw["name"]), str(raw["entrypoint"]), values)


def _schedule(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        ("anchor_date" if key == "anchor-date" else key): plain(value)
        for key, value in raw.items()
        if value is not None
    }


def _text(value: Any) -> str:
    return str(number_as_written(value))
