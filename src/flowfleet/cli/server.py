"""`flowfleet server start|stop|status --env E`: the embedded local servers."""

from __future__ import annotations

from cyclopts import App

from flowfleet.cli.options import DEFAULT_FILE, ConfigFile, Environment, Json

server = App(
    name="server", help="Start, stop or inspect the embedded server of a local environment."
)


@server.command
def start(*, env: Environment = None, file: ConfigFile = DEFAULT_FILE, json: Json = False) -> int:
    """Start the environment's local Prefect server (if it is not running) and print its UI."""
    from flowfleet.commands.server import run_server

    return run_server("start", file, env, as_json=json)


@server.command
def stop(*, env: Environment = None, file: ConfigFile = DEFAULT_FILE, json: Json = False) -> int:
    """Stop the environment's local Prefect server."""
    from flowfleet.commands.server import run_server

    return run_server("stop", file, env, as_json=json)


@server.command
def status(*, env: Environment = None, file: ConfigFile = DEFAULT_FILE, json: Json = False) -> int:
    """Say whether the environment's local Prefect server runs, and where (exit 1 if not)."""
    from flowfleet.commands.server import run_server

    return run_server("status", file, env, as_json=json)
