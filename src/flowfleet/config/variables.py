"""Which unset variables an environment needs, and for what.

A `${VAR}` that only serves to connect (an environment's `api_url`, or the variable that
`api_key_env` names) is needed by the commands that talk to the server; one that shapes
what gets deployed is needed to render, plan and apply, but validate can check the rest
of the config without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flowfleet.config.checks import SHOWN, shown
from flowfleet.config.document import DocPath, UnsetVariable
from flowfleet.config.load import LoadedConfig, unset_variable
from flowfleet.errors import Problem

CONNECTION_FIELDS = ("api_url", "api_key_env", "local")


def used_by(path: DocPath, environment: str) -> bool:
    """Whether a value at `path` is used by `environment` (other environments' are not)."""
    if len(path) >= 2 and path[0] == "environments":
        return path[1] == environment
    if len(path) >= 4 and path[0] == "deployments" and path[2] == "environments":
        return path[3] == environment
    return True


def connects(path: DocPath) -> bool:
    """Whether a value at `path` only says how to reach an environment's server."""
    return len(path) >= 3 and path[0] == "environments" and path[2] in CONNECTION_FIELDS


def unset_in(loaded: LoadedConfig, environment: str) -> list[UnsetVariable]:
    """The unset variables that `environment` uses (in the legacy format: all of them)."""
    if loaded.format == "legacy":
        return list(loaded.document.unset)
    return [u for u in loaded.document.unset if used_by(u.path, environment)]


def offline_warning(unset: UnsetVariable) -> Problem:
    """An unset variable that shapes the deployments, as validate reports it."""
    if len(unset.name) > SHOWN:
        return unset_variable(unset)
    return Problem(
        unset.location,
        f"environment variable '{unset.name}' is not set and has no default; validated "
        "without it, but render, plan and apply need it: set it, or write "
        f"${{{unset.name}:-default}}",
    )


def connection_problems(
    loaded: LoadedConfig, environment: str, environ: Mapping[str, str]
) -> Iterator[Problem]:
    """What `environment` lacks to connect to its server: unset `${VAR}`s of its
    connection and the variable its `api_key_env` names."""
    for unset in unset_in(loaded, environment):
        if connects(unset.path):
            yield _unset_connection(unset, environment)
    settings = loaded.config.environments[environment]
    variable = settings.api_key_env
    if variable is not None and not settings.local and not environ.get(variable):
        where = loaded.locate(("environments", environment, "api_key_env"))
        yield Problem(
            where,
            f"environment variable '{variable}' (api_key_env) is not set; environment "
            f"'{environment}' needs it to connect to its server: export it with the API key "
            "(the key itself never goes in the config)",
        )


def _unset_connection(unset: UnsetVariable, environment: str) -> Problem:
    if len(unset.name) > SHOWN:
        return unset_variable(unset)
    field = unset.path[2]
    return Problem(
        unset.location,
        f"environment variable {shown(unset.name)} is not set and has no default; "
        f"environment '{environment}' needs it to connect to its server ({field}): set it "
        "before plan, apply or run",
    )
