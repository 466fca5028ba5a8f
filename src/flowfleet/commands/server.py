"""server start|stop|status: the embedded Prefect server of a `local` environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from flowfleet.config.load import load_config
from flowfleet.errors import ConfigError
from flowfleet.output.console import out, print_json
from flowfleet.server.local import LocalServer


def run_server(
    action: Literal["start", "stop", "status"], file: Path, env: str | None, *, as_json: bool
) -> int:
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
        stopped = server.stop()
        if as_json:
            print_json({"environment": env, "stopped": stopped})
        else:
            out(f"{env}: stopped" if stopped else f"{env}: was not running")
        return 0
    info = server.ensure_started() if action == "start" else server.status()
    if as_json:
        print_json(
            {"environment": env, "running": info is not None}
            | ({"pid": info.pid, "api_url": info.api_url, "ui_url": info.ui_url} if info else {})
        )
    elif info is None:
        out(f"{env}: not running (start it with: flowfleet server start --env {env})")
    else:
        out(f"{env}: running, pid {info.pid}; UI {info.ui_url}  API {info.api_url}")
    return 0 if info is not None else 1
