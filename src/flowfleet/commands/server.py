"""server start|stop|status: the embedded Prefect server of a `local` environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from flowfleet.config.load import load_config
from flowfleet.errors import ConfigError
from flowfleet.local_server import LocalServer
from flowfleet.output import out


def run_server(action: Literal["start", "stop", "status"], file: Path, env: str | None) -> int:
    """Act on the local server of `env`; status exits 1 when it is not running."""
    loaded = load_config(file)
    local = [name for name, e in loaded.config.environments.items() if e.local]
    if env is None or env not in local:
        where = loaded.locate(("environments",), key=True)
        raise ConfigError(
            f"--env must name a local environment ({', '.join(local) or 'none declared'}); "
            f"got {env or 'nothing'}",
            where,
        )
    server = LocalServer(loaded.root, env)
    if action == "stop":
        out(f"{env}: stopped" if server.stop() else f"{env}: was not running")
        return 0
    info = server.ensure_started() if action == "start" else server.status()
    if info is None:
        out(f"{env}: not running (start it with: flowfleet server start --env {env})")
        return 1
    out(f"{env}: running, pid {info.pid}; UI {info.ui_url}  API {info.api_url}")
    return 0
