"""Base job templates: from a JSON or YAML file in the project, inline, or the worker
type's default. Read once per file; problems are reported at the config line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from flowfleet.config.document import DocPath
from flowfleet.config.load import LoadedConfig
from flowfleet.errors import Problem

TemplateRef = str | dict[str, Any] | None


class TemplateReader:
    """Reads the templates a config refers to; `problems` holds what could not be read."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self._files: dict[str, dict[str, Any]] = {}

    def read_all(self) -> None:
        """Read every template file named anywhere in the config (every environment)."""
        for path, ref in _references(self.loaded):
            if isinstance(ref, str) and ref not in self._files:
                try:
                    self._files[ref] = read_template_file(self.loaded.root, ref)
                except TemplateError as exc:
                    self._files[ref] = {}
                    self.problems.append(Problem(self.loaded.locate(path), str(exc)))

    def __call__(self, ref: TemplateRef, pool_type: str) -> dict[str, Any]:
        if isinstance(ref, dict):
            return ref
        if isinstance(ref, str):
            return self._files.get(ref, {})
        return default_template(pool_type)


class TemplateError(Exception):
    """A template file cannot be used."""


def read_template_file(root: Path, ref: str) -> dict[str, Any]:
    """A base job template from a JSON or YAML file inside the project folder."""
    path = (root / ref).resolve()
    if not path.is_relative_to(root.resolve()):
        raise TemplateError(f"base job template '{ref}' is outside the project folder")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read base job template '{ref}': {exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise TemplateError(f"base job template '{ref}' is not valid JSON/YAML: {exc}") from None
    if not isinstance(data, dict) or not {"job_configuration", "variables"} <= data.keys():
        raise TemplateError(
            f"base job template '{ref}' must be a mapping with 'job_configuration' and "
            "'variables' (as `prefect work-pool get-default-base-job-template` prints)"
        )
    return data


@cache
def _default_template(pool_type: str) -> str:
    from prefect.workers.utilities import (
        get_default_base_job_template_for_infrastructure_type,
    )

    template = asyncio.run(get_default_base_job_template_for_infrastructure_type(pool_type))
    return json.dumps(template or {})


def default_template(pool_type: str) -> dict[str, Any]:
    """The worker type's own default template (from its package when installed)."""
    return dict(json.loads(_default_template(pool_type)))


def _references(loaded: LoadedConfig) -> Iterator[tuple[DocPath, TemplateRef]]:
    for name, spec in loaded.config.work_pools.items():
        yield ("work_pools", name, "base_job_template"), spec.base_job_template
        if isinstance(spec.environments, dict):
            for env, override in spec.environments.items():
                if override is not None:
                    path = ("work_pools", name, "environments", env, "base_job_template")
                    yield path, override.base_job_template
