"""Validate every selected environment of every file, offline, collecting every problem.

Nothing is written anywhere until this has passed for all of them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowfleet.config import checks
from flowfleet.config.diagnostics import dotted
from flowfleet.config.document import DocPath
from flowfleet.config.load import LoadedConfig, load_config, unset_variable
from flowfleet.config.models import Config, Settings
from flowfleet.config.models import Schedule as ScheduleEntry
from flowfleet.config.variables import connection_problems, connects, offline_warning, unset_in
from flowfleet.errors import ConfigError, Location, Problem, ValidationFailed
from flowfleet.model.resources import Infrastructure
from flowfleet.render.automation_checks import automation_problems
from flowfleet.render.catalog import FlowCatalog
from flowfleet.render.deployments import PLACEHOLDER, Rendered, render, schedule_slug
from flowfleet.render.infrastructure import render_infrastructure
from flowfleet.render.job_variables import job_variable_problems
from flowfleet.render.parameters import parameter_problems
from flowfleet.render.templates import TemplateReader

# The top-level resources whose `environments:` name environments (a list or a mapping).
RESOURCES = {
    "work_pools": "work pool",
    "variables": "variable",
    "concurrency_limits": "concurrency limit",
    "blocks": "block",
    "automations": "automation",
}


@dataclass(frozen=True)
class Needs:
    """Which unset `${VAR}`s are errors: those that shape the deployments (else they are
    warnings), those that say how to connect (else they are not looked at)."""

    deployments: bool
    connection: bool


OFFLINE = Needs(deployments=False, connection=False)  # validate
RENDER = Needs(deployments=True, connection=False)  # render, diff
CONNECT = Needs(deployments=True, connection=True)  # plan, apply
DELETE = Needs(deployments=False, connection=True)  # destroy: deletes what exists


@dataclass(frozen=True)
class Desired:
    """The validated, rendered deployments of one environment of one config file."""

    loaded: LoadedConfig
    environment: str
    deployments: tuple[Rendered, ...]
    schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # by entrypoint
    infrastructure: Infrastructure = field(default_factory=Infrastructure)
    warnings: tuple[Problem, ...] = ()  # unset variables, parameters runs must supply
    notes: tuple[Problem, ...] = ()  # what flowfleet read differently from Prefect (--verbose)

    @property
    def project(self) -> str:
        assert self.loaded.config.project is not None  # the loader always sets it
        return self.loaded.config.project


def load_and_validate(
    files: Sequence[Path],
    environments: Sequence[str] = (),
    project: str | None = None,
    *,
    needs: Needs = CONNECT,
    on_loaded: Callable[[LoadedConfig, Sequence[str]], None] | None = None,
) -> list[Desired]:
    """Load, render and validate; raise ValidationFailed with every problem found.
    `on_loaded` is called with each file's config once it is loaded, before the rest of
    the validation (see flowfleet.server.early)."""
    problems: list[Problem] = []
    desired: list[Desired] = []
    for file in files:
        try:
            loaded = _load(file, environments, project)
            if on_loaded is not None:
                on_loaded(loaded, environments)
            desired.extend(_validate_file(loaded, environments, problems, needs))
        except ConfigError as exc:
            problems.append(Problem(exc.location, exc.message))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems, [w for d in desired for w in d.warnings])
    return desired


def validate_loaded(
    loaded: LoadedConfig, environments: Sequence[str] = (), *, needs: Needs = CONNECT
) -> list[Desired]:
    """Render and validate a loaded config's environments (default: all); raise
    ValidationFailed with every problem found."""
    problems: list[Problem] = []
    desired = _validate_file(loaded, environments, problems, needs)
    if problems:
        raise ValidationFailed(problems, [w for d in desired for w in d.warnings])
    return desired


def _load(file: Path, environments: Sequence[str], project: str | None) -> LoadedConfig:
    loaded = load_config(file, project=project)
    if loaded.format == "legacy" and environments:
        if len(environments) > 1:
            raise ConfigError(
                f"a file in the older format holds one environment; got --env "
                f"{', '.join(environments)}: name one",
                Location(loaded.file, 1, 1),
            )
        loaded = load_config(file, project=project, environment=environments[0])
    return loaded


def _validate_file(
    loaded: LoadedConfig, selected: Sequence[str], problems: list[Problem], needs: Needs
) -> list[Desired]:
    names = list(loaded.config.environments)
    unknown = [e for e in selected if e not in names]
    if unknown:
        where = loaded.locate(("environments",), key=True)
        for name in unknown:
            problems.append(Problem(where, f"unknown environment '{name}'; {_hint(name, names)}"))
        return []
    problems.extend(_config_problems(loaded))
    catalog = FlowCatalog(loaded.root)
    templates = TemplateReader(loaded)
    templates.read_all()
    problems.extend(templates.problems)
    return [
        _validate_environment(loaded, environment, catalog, templates, needs, problems)
        for environment in selected or names
    ]


def _validate_environment(
    loaded: LoadedConfig,
    environment: str,
    catalog: FlowCatalog,
    templates: TemplateReader,
    needs: Needs,
    problems: list[Problem],
) -> Desired:
    rendered = render(loaded, environment, catalog.flow_name)
    infrastructure = render_infrastructure(loaded, environment, templates)
    warned: list[Problem] = []  # parameters each run must supply
    found = list(_environment_problems(loaded, environment, rendered, catalog, warned))
    found += (
        Problem(loaded.locate(path, key=at_key), message)
        for path, at_key, message in (
            *job_variable_problems(loaded, environment, rendered, infrastructure),
            *automation_problems(loaded, environment, rendered, catalog.flow_of),
        )
    )
    unset, warnings = _unset_variables(loaded, environment, needs)
    not_known = {u.location for u in loaded.document.unset}  # a value without its variable
    found = unset + [p for p in found if p.location not in not_known]
    problems.extend(Problem(p.location, p.message, (environment,)) for p in found)
    schemas = {
        r.deployment.entrypoint: catalog.flow(r.deployment.entrypoint).parameter_schema
        for r in rendered
        if catalog.error(r.deployment.entrypoint) is None
    }
    warned += warnings
    notes = tuple(
        Problem(loaded.locate(r.origin("entrypoint")), note, (environment,))
        for r in rendered
        if catalog.error(r.deployment.entrypoint) is None
        for note in catalog.flow(r.deployment.entrypoint).notes
    )
    return Desired(
        loaded,
        environment,
        tuple(rendered),
        schemas,
        infrastructure,
        tuple(Problem(w.location, w.message, (environment,)) for w in warned),
        notes,
    )


def _unset_variables(
    loaded: LoadedConfig, environment: str, needs: Needs
) -> tuple[list[Problem], list[Problem]]:
    """The problems and the warnings of the variables `environment` uses that are unset."""
    shaping = [u for u in unset_in(loaded, environment) if not connects(u.path)]
    if not needs.deployments:
        problems, warnings = [], [offline_warning(u) for u in shaping]
    else:
        problems, warnings = [unset_variable(u) for u in shaping], []
    if needs.connection:
        problems += connection_problems(loaded, environment, os.environ)
    return problems, warnings


def _config_problems(loaded: LoadedConfig) -> Iterable[Problem]:
    """Schedule renames that clash, and `environments:` of a deployment or a top-level
    resource naming an undeclared one."""
    yield from _rename_problems(loaded)
    names = list(loaded.config.environments)
    for path, what, environments in _placed(loaded.config):
        listed = environments if isinstance(environments, list) else list(environments or {})
        for index, env in enumerate(listed):
            if env in names:
                continue
            at = (*path, "environments")
            located = (
                loaded.locate((*at, index))
                if isinstance(environments, list)
                else loaded.locate((*at, env), key=True)
            )
            yield Problem(
                located, f"{what} refers to unknown environment '{env}'; {_hint(env, names)}"
            )


def _placed(config: Config) -> Iterator[tuple[DocPath, str, Any]]:
    """(config path, what it is, its `environments:`) of each deployment and resource."""
    for index, entry in enumerate(config.deployments):
        yield ("deployments", index), f"deployment '{entry.name}'", entry.environments
    for section, kind in RESOURCES.items():
        for name, spec in getattr(config, section).items():
            yield (section, name), f"{kind} '{name}'", getattr(spec, "environments", None)


def _rename_problems(loaded: LoadedConfig) -> Iterable[Problem]:
    """Two schedules of one list renaming the same slug, or one renaming a slug that the
    list still declares."""
    for path, schedules in _schedule_lists(loaded.config):
        slugs = [schedule_slug(s, i) for i, s in enumerate(schedules)]
        given = [s.slug is not None for s in schedules]
        replaced = [s.replaces for s in schedules]
        for index, message in checks.renamed_slugs(slugs, given, replaced):
            at = (*path, index, "replaces")
            yield Problem(loaded.locate(at), f"{dotted(at)}: {message}")


def _schedule_lists(config: Config) -> Iterable[tuple[DocPath, list[ScheduleEntry]]]:
    """Every `schedules:` list of the config, with its path."""
    layers: list[tuple[DocPath, Settings | None]] = [(("defaults",), config.defaults)]
    for name, environment in config.environments.items():
        layers.append((("environments", name, "overrides"), environment.overrides))
    for index, entry in enumerate(config.deployments):
        layers.append((("deployments", index), entry))
        layers += [
            (("deployments", index, "environments", n), settings)
            for n, settings in (entry.environments or {}).items()
        ]
    for path, layer in layers:
        if layer is not None and layer.schedules:
            yield (*path, "schedules"), layer.schedules


def _environment_problems(
    loaded: LoadedConfig,
    environment: str,
    rendered: list[Rendered],
    catalog: FlowCatalog,
    warnings: list[Problem],
) -> Iterable[Problem]:
    first_seen: dict[tuple[str, str], Rendered] = {}
    for item in rendered:
        deployment = item.deployment
        located = loaded.locate(item.origin("entrypoint"))
        error = catalog.error(deployment.entrypoint)
        if error is not None:
            yield Problem(located, error)
        else:
            flow = catalog.flow(deployment.entrypoint)
            for finding in parameter_problems(flow, item):
                found = Problem(loaded.locate(finding.path), finding.message)
                if finding.warning:
                    warnings.append(found)
                else:
                    yield found
        for placeholder in PLACEHOLDER.findall(deployment.name.replace("${", "$")):
            yield Problem(
                loaded.locate(item.origin("name")),
                f"deployment name '{deployment.name}' has an unknown placeholder "
                f"'{{{placeholder}}}'; known here: env"
                + "".join(f", {k}" for k in _matrix_keys(loaded, item)),
            )
        if deployment.work_queue_name and not deployment.work_pool_name:
            yield Problem(
                loaded.locate(item.origin("work_pool.work_queue_name")),
                f"deployment '{deployment.full_name}' names work queue "
                f"'{deployment.work_queue_name}' but no work pool; in Prefect 3 a queue "
                "belongs to a pool: set work_pool.name too",
            )
        earlier = first_seen.setdefault(deployment.key, item)
        if earlier is not item:
            yield _duplicate(loaded, earlier, item)


def _duplicate(loaded: LoadedConfig, earlier: Rendered, item: Rendered) -> Problem:
    where = loaded.locate(item.origin("name"))
    if earlier.entry == item.entry:  # one matrix entry gives the same name twice
        entry = loaded.config.deployments[int(item.entry[1])]
        unused = [k for k in entry.matrix or {} if f"{{{k}}}" not in entry.name]
        key = unused[0] if unused else "?"
        return Problem(
            where,
            f"deployment name '{entry.name}' is the same for every value of matrix key "
            f"'{key}'; put {{{key}}} in the name, e.g. '{entry.name}-{{{key}}}'",
        )
    line = loaded.locate(earlier.origin("name")).line
    return Problem(
        where,
        f"deployment '{item.deployment.full_name}' is declared twice (first on line {line}); "
        "deployment names must be unique per flow",
    )


def _matrix_keys(loaded: LoadedConfig, item: Rendered) -> list[str]:
    entry = loaded.config.deployments[int(item.entry[1])]
    return list(entry.matrix or {})


def _hint(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "declared: " + ", ".join(names)
