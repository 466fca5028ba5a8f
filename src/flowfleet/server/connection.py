"""Where each environment's Prefect API is, and with which key. Keys never leave here
except in the Authorization header."""

from __future__ import annotations

import os
from pathlib import Path

from flowfleet.config.models import Environment
from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server.local import LocalServer


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
    """The Prefect settings in force: PREFECT_API_URL / PREFECT_API_KEY / the profile."""
    from prefect.settings import Settings

    settings = Settings()  # read now: the environment and the active profile
    url = settings.api.url
    if not url:
        raise ConnectionError_(
            f"environment '{name}' has no api_url and PREFECT_API_URL is not set (nor in "
            "the active Prefect profile); set api_url in the config, export PREFECT_API_URL, "
            "or declare the environment 'local: true'"
        )
    secret = settings.api.key.get_secret_value() if settings.api.key is not None else None
    return Target(name, str(url).rstrip("/"), key or secret)
