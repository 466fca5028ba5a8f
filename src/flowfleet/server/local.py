"""The embedded default: a Prefect server on SQLite under `.flowfleet/<env>/`.

An environment declared `local: true` gets its own server process, started when needed,
on a free port recorded in `server.json` so that later commands find it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from flowfleet.errors import FlowfleetError

STATE_FOLDER = ".flowfleet"
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class LocalServerError(FlowfleetError):
    """The local server could not be started or reached."""


class LocalServer:
    """The embedded Prefect server of one `local` environment."""

    def __init__(
        self, root: Path, environment: str, *, python: str | None = None, ui: bool = True
    ) -> None:
        self.environment = environment
        self.ui = ui
        # The interpreter that runs `-m prefect server start`: by default flowfleet's own,
        # or another environment's, to run a server of another Prefect version.
        self.python = python or sys.executable
        self.folder = root / STATE_FOLDER / environment
        self.state_file = self.folder / "server.json"
        self.log_file = self.folder / "server.log"

    def status(self) -> ServerInfo | None:
        """The running server, or None (a stale record is removed)."""
        try:
            info = ServerInfo(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if _alive(info.pid) and _healthy(info.api_url):
            return info
        return None

    def ensure_started(self, *, services: bool = True) -> ServerInfo:
        """The running server, started first if needed."""
        return self.status() or self.start(services=services)

    def start(self, *, services: bool = True) -> ServerInfo:
        """Start a server in the background and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        command = [self.python, "-m", "prefect", "server", "start"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        if not services:
            command.append("--no-services")
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                command,
                env=self.server_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives this command; `server stop` ends it
            )
        info = ServerInfo(pid=process.pid, port=port)
        self.state_file.write_text(json.dumps(asdict(info)))
        self._wait_healthy(info, process)
        return info

    def stop(self) -> bool:
        """Stop the server if it runs; True if one was stopped."""
        try:
            info = ServerInfo(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return False
        self.state_file.unlink(missing_ok=True)
        return terminate(info.pid)

    def server_environment(self) -> dict[str, str]:
        """The server's own settings: offline, its own home and SQLite database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        database = (self.folder / "prefect.db").resolve()
        env.update(
            PREFECT_HOME=str((self.folder / "home").resolve()),
            PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{database}",
            DO_NOT_TRACK="1",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_LOGGING_SERVER_LEVEL="WARNING",
        )
        if not self.ui:  # its first start copies the UI's files into the installed package
            env["PREFECT_SERVER_UI_ENABLED"] = "false"
        return env

    def _wait_healthy(self, info: ServerInfo, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalServerError(
                    f"the local Prefect server of '{self.environment}' exited with code "
                    f"{process.returncode}; see {self.log_file}"
                )
            if _healthy(info.api_url):
                return
            time.sleep(0.25)
        terminate(info.pid)
        raise LocalServerError(
            f"the local Prefect server of '{self.environment}' did not answer within "
            f"{START_TIMEOUT:.0f} s; see {self.log_file}"
        )


def terminate(pid: int, grace: float = 10.0) -> bool:
    """SIGTERM the process group, then SIGKILL after `grace` seconds."""
    if not _alive(pid):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal-0 probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
