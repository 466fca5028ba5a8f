"""Where each environment's Prefect API is, and with which key. Keys never leave here
except in the Authorization header."""

from __future__ import annotations

import os
from pathlib import Path

from flowfleet.config.models import Environment
from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server.local import LocalServer
from flowfleet.server.prefect_settings import PrefectApi, read_prefect_api


class ConnectionError_(FlowfleetError):
    """An environment's server cannot be found or reached (never names the key)."""


def resolve_target(root: Path, name: str, environment: Environment, *, start_local: bool) -> Target:
    """The API of `environment`. A `local` environment's embedded server is started when
    it is not running (a background process that outlives this one: `flowfleet server
    stop` ends it), unless `start_local` is False: then a stopped one is an error."""
    if environment.local:
        local = LocalServer(root, name)
        server = local.ensure_started() if start_local else local.status()
        if server is None:
            raise ConnectionError_(
                f"environment '{name}' is local and its server is not running; start it "
                f"with `flowfleet server start --env {name}`"
            )
        return Target(name, server.api_url, None, local=True)
    key = _api_key(name, environment.api_key_env)
    if environment.api_url:
        return Target(name, environment.api_url.rstrip("/"), key)
    return _from_prefect_settings(name, key)


def _api_key(name: str, variable: str | None) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(variable)
    if not key:
        raise ConnectionError_(
            f"environment '{name}': the variable {variable} named by api_key_env is not set; "
            "export it with the API key (the key itself never goes in the config)"
        )
    return key


def _from_prefect_settings(name: str, key: str | None) -> Target:
    """The Prefect settings in force (PREFECT_API_URL, .env, prefect.toml, pyproject.toml,
    the active profile; see prefect_settings), read without importing Prefect."""
    settings = read_prefect_api()
    if settings.url is None or not settings.url.value:
        raise ConnectionError_(
            f"environment '{name}' has no api_url, and {_why_no_url(settings)}; set api_url "
            "in the config, export PREFECT_API_URL, or declare the environment 'local: true'"
        )
    secret = settings.key.value if settings.key is not None else None
    return Target(name, settings.url.value.rstrip("/"), key or secret or None)


def _why_no_url(settings: PrefectApi) -> str:
    if settings.url is not None:  # set, but to ""
        return f"the Prefect settings give an empty API URL ({settings.url.source})"
    return (
        "no Prefect setting gives one (not the environment's PREFECT_API_URL, .env, "
        f"prefect.toml, pyproject.toml, or {settings.profile})"
    )
