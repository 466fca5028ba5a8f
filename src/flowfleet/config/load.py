"""Load a config file of either format into a `Config`, with positions for every error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import pydantic

from flowfleet.config import legacy
from flowfleet.config.checks import SHOWN, shown
from flowfleet.config.diagnostics import describe, problems_from
from flowfleet.config.document import (
    DocPath,
    Document,
    UnsetVariable,
    parse_document,
    read_document,
)
from flowfleet.config.models import Config
from flowfleet.errors import ConfigError, Location, Problem, ValidationFailed

Format = Literal["flowfleet", "legacy"]
_FLOWFLEET_KEYS = {"project", "defaults", "environments"}


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a config file that loads but deserves the user's attention."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}"


@dataclass(frozen=True)
class LoadedConfig:
    """A parsed, schema-valid config file and what is needed to point back into it."""

    file: str
    root: Path
    format: Format
    config: Config
    document: Document
    warnings: tuple[ConfigWarning, ...] = ()

    def locate(self, path: DocPath, *, key: bool = False) -> Location:
        """file:line:column of a path in the (flowfleet-format) config."""
        if self.format == "legacy":
            path = legacy.legacy_path(path)
        return self.document.locate(path, key=key)


def load_config(
    path: Path,
    *,
    display: str | None = None,
    project: str | None = None,
    environment: str | None = None,
) -> LoadedConfig:
    """Read `path`. `project` overrides the project name; `environment` names the single
    environment of a file in the older format (default: the file's stem)."""
    _check_not_linked_out(path, display or str(path))
    document = read_document(path, display)
    file = document.file
    if not isinstance(document.data, dict):
        raise ConfigError(
            "expected a mapping with 'deployments:' at the top of the file, "
            f"found {describe(document.data)}",
            document.locate(()),
        )
    fmt: Format = "flowfleet" if _FLOWFLEET_KEYS & document.data.keys() else "legacy"
    root = path.resolve().parent
    default_project = project or project_slug(root.name)
    if fmt == "flowfleet":
        config = _validate(Config, document)
        if project or config.project is None:
            config = config.model_copy(update={"project": default_project})
        return LoadedConfig(file, root, fmt, config, document)
    old = _validate(legacy.LegacyFile, document)
    config = legacy.to_config(old, default_project, environment or project_slug(path.stem))
    warnings: tuple[ConfigWarning, ...] = ()
    if old.ib_block is not None:
        message = legacy.IB_BLOCK_WARNING.format(block=shown(old.ib_block))
        warnings = (ConfigWarning(document.locate(("ib-block",), key=True), message),)
    return LoadedConfig(file, root, fmt, config, document, warnings)


def load_text(text: str, root: Path, *, display: str, project: str | None = None) -> LoadedConfig:
    """A config in the flowfleet format given as text (e.g. built in Python); `root` is
    the folder its entrypoints and template files are relative to, `display` names it in
    error messages."""
    document = parse_document(text.encode("utf-8"), display)
    if not isinstance(document.data, dict):
        raise ConfigError(
            f"expected a mapping with 'environments:', found {describe(document.data)}",
            document.locate(()),
        )
    config = _validate(Config, document)
    root = root.resolve()
    if project or config.project is None:
        config = config.model_copy(update={"project": project or project_slug(root.name)})
    return LoadedConfig(document.file, root, "flowfleet", config, document)


def _check_not_linked_out(path: Path, file: str) -> None:
    """A config file that is a symlink to a file outside its own folder would make the
    target's folder the project folder (flows, templates): refuse it."""
    try:
        folder = path.absolute().parent.resolve()
        target = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reading the file reports it
        return
    if path.is_symlink() and not target.is_relative_to(folder):
        raise ConfigError(
            f"the config file is a symlink to {target}, outside the project folder {folder}; "
            "copy the file into the project folder, or give the real file with "
            f"-f {target}",
            Location(file, 1, 1),
        )


M = TypeVar("M", bound=pydantic.BaseModel)


def _validate(model: type[M], document: Document) -> M:
    try:
        return model.model_validate(document.data)
    except pydantic.ValidationError as exc:
        problems = problems_from(exc, model, document)
    # A value that failed because a variable is unset is reported as the unset variable.
    unset = {u.path: u for u in document.unset}
    raise ValidationFailed(
        unset_variable(unset[path]) if path in unset else problem for path, problem in problems
    )


def unset_variable(unset: UnsetVariable) -> Problem:
    """The problem of a `${VAR}` without a value."""
    if len(unset.name) > SHOWN:
        return Problem(
            unset.location,
            f"environment variable {shown(unset.name)} is not set and has no default; "
            "a variable name this long is probably a mistake",
        )
    return Problem(
        unset.location,
        f"environment variable '{unset.name}' is not set and has no default; "
        f"set it, or write ${{{unset.name}:-default}}",
    )


def project_slug(name: str, fallback: str = "default") -> str:
    """A folder name as a project name: other characters become '-'."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-._")
    return slug or fallback
