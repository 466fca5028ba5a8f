"""Base job templates: from a JSON or YAML file in the project, inline, or the worker
type's default. Read once per file; problems are reported at the config line."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from flowfleet.config.cache import cache_dir
from flowfleet.config.document import DocPath
from flowfleet.config.load import LoadedConfig
from flowfleet.errors import FlowfleetError, Problem

TemplateRef = str | dict[str, Any] | None


class TemplateReader:
    """Reads the templates a config refers to; `problems` holds what could not be read."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self._files: dict[str, dict[str, Any]] = {}

    def read_all(self) -> None:
        """Read every template named anywhere in the config (every environment): files,
        and the worker type's default where a pool gives none."""
        for path, ref, pool_type in _references(self.loaded):
            key = ref if isinstance(ref, str) else f"default:{pool_type}"
            if isinstance(ref, dict) or key in self._files:
                continue
            try:
                if isinstance(ref, str):
                    self._files[key] = read_template_file(self.loaded.root, ref)
                else:
                    self._files[key] = default_template(pool_type)
            except TemplateError as exc:
                self._files[key] = {}
                self.problems.append(Problem(self.loaded.locate(path), str(exc)))

    def __call__(self, ref: TemplateRef, pool_type: str) -> dict[str, Any]:
        if isinstance(ref, dict):
            return ref
        key = ref if isinstance(ref, str) else f"default:{pool_type}"
        if key not in self._files:  # a type only an override names
            try:
                self._files[key] = default_template(pool_type)
            except TemplateError:
                self._files[key] = {}
        return self._files[key]


class TemplateError(Exception):
    """A template file cannot be used."""


def read_template_file(root: Path, ref: str) -> dict[str, Any]:
    """A base job template from a JSON or YAML file inside the project folder."""
    try:
        path = (root / ref).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise TemplateError(f"cannot resolve base job template '{ref}': {exc}") from None
    if not path.is_relative_to(root.resolve()):
        raise TemplateError(
            f"base job template '{ref}' resolves to {path}, outside the project folder "
            f"{root.resolve()}; keep template files inside the project folder"
        )
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
    """The default template as JSON: from the cache when the installed Prefect and
    collections are the versions it was read from, else from the worker (which imports
    Prefect: over a second)."""
    path = _cache_path(pool_type)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = _read_default_template(pool_type)
    try:  # best effort: a read-only home only costs speed
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass
    return text


def _cache_path(pool_type: str) -> Path:
    """Keyed by the type and the versions of Prefect and of every installed collection
    (the packages that can provide workers), so an upgrade reads the template again."""
    from importlib.metadata import PackageNotFoundError, entry_points, version

    try:
        prefect = version("prefect")
    except PackageNotFoundError:
        prefect = "none"
    installed = sorted(
        f"{ep.dist.name}=={ep.dist.version}"
        for ep in entry_points(group="prefect.collections")
        if ep.dist is not None
    )
    key = "\n".join([pool_type, f"prefect=={prefect}", *installed])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in pool_type)
    return cache_dir() / "templates" / f"{safe}-{digest}.json"


def _read_default_template(pool_type: str) -> str:
    from prefect.workers.base import BaseWorker

    worker = BaseWorker.get_worker_class_from_type(pool_type)
    if worker is not None:
        return json.dumps(worker.get_default_base_job_template())
    # Prefect's own fallback starts a temporary server to read this same bundled file.
    try:
        return json.dumps(bundled_template(pool_type))
    except FlowfleetError as exc:
        raise TemplateError(
            f"unknown work pool type '{pool_type}': no installed worker and no template "
            "bundled with Prefect; give base_job_template, or install the worker's package"
        ) from exc


def default_template(pool_type: str) -> dict[str, Any]:
    """The worker type's own default template: from its installed worker, else the copy
    bundled with Prefect."""
    return dict(json.loads(_default_template(pool_type)))


def _references(loaded: LoadedConfig) -> Iterator[tuple[DocPath, TemplateRef, str]]:
    """(where, template reference, pool type) of every pool and override."""
    for name, spec in loaded.config.work_pools.items():
        pool_type = spec.type or "process"
        key = "base_job_template" if spec.base_job_template is not None else "type"
        yield ("work_pools", name, key), spec.base_job_template, pool_type
        if isinstance(spec.environments, dict):
            for env, override in spec.environments.items():
                if override is not None and override.base_job_template is not None:
                    path = ("work_pools", name, "environments", env, "base_job_template")
                    yield path, override.base_job_template, override.type or pool_type


_BUNDLED = Path("server", "api", "collections_data", "views", "aggregate-worker-metadata.json")


def bundled_template(worker_type: str) -> dict[str, Any]:
    """The default template of `worker_type` from the registry view bundled with Prefect."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise FlowfleetError("Prefect is not installed; install prefect or prefect-aws")
    path = Path(spec.origin).parent / _BUNDLED
    try:
        view = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FlowfleetError(
            f"cannot read Prefect's bundled worker templates ({path}): {exc}; "
            "install prefect-aws for the ECS worker's own template"
        ) from None
    for workers in view.values():
        for worker in workers.values():
            if worker.get("type") == worker_type:
                return dict(worker["default_base_job_configuration"])
    raise FlowfleetError(
        f"Prefect bundles no default template for '{worker_type}' work pools; "
        "install prefect-aws for the ECS worker's own template"
    )
