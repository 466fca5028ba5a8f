"""Fresh Prefect servers on 127.0.0.1: SQLite through flowfleet's LocalServer, and
PostgreSQL from Debian's package (installed with apt when missing, own cluster in a
temporary folder, stopped at the end)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.project import POOL
from flowfleet.server.local import LocalServer

QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}


class PostgresUnavailable(Exception):
    """PostgreSQL cannot be installed or started here: its rows are skipped."""


class BenchServer(LocalServer):
    """A LocalServer with its own database URL (SQLite file or PostgreSQL database)."""

    def __init__(
        self, root: Path, name: str, database_url: str | None = None, python: str | None = None
    ) -> None:
        super().__init__(root, name, python=python)
        self.database_url = database_url

    def server_environment(self) -> dict[str, str]:
        env = super().server_environment()
        env["PREFECT_SERVER_UI_ENABLED"] = "false"
        if self.database_url is not None:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = self.database_url
        return env


@contextmanager
def fresh_servers(
    root: Path, names: list[str], postgres: Postgres | None, python: str | None = None
) -> Iterator[dict[str, str]]:
    """Start one fresh server per name (in parallel), yield their API URLs, stop them.
    `python`: the interpreter of another Prefect installation to run the servers with
    (e.g. the oldest supported release, from `make test-compat`'s environments)."""
    root = Path(tempfile.mkdtemp(prefix="servers-", dir=root))  # fresh databases every time
    servers = [
        BenchServer(root, n, postgres.new_database(n) if postgres else None, python) for n in names
    ]
    try:
        urls = dict(zip(names, _start_all(servers), strict=True))
        for url in urls.values():
            create_pool(url)
        yield urls
    finally:
        for server in servers:
            server.stop()


def _start_all(servers: list[BenchServer]) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(servers)) as pool:
        infos = list(pool.map(lambda s: s.start(services=False), servers))
    return [info.api_url for info in infos]


def create_pool(api_url: str) -> None:
    """The process work pool every benchmark deployment uses, created up front."""
    body = {"name": POOL, "type": "process"}
    httpx.post(f"{api_url}/work_pools/", json=body, timeout=30).raise_for_status()


class Postgres:
    """A PostgreSQL cluster of our own in a temporary folder, trust auth on 127.0.0.1."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="flowfleet-bench-pg-"))
        self.port = _free_port()
        self.started = False
        self.count = 0

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200 -c fsync=on"
        log = str(self.folder / "postgres.log")
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", log, "-w", "start")
        self.started = True

    def new_database(self, name: str) -> str:
        """A new, empty database; its SQLAlchemy URL for the Prefect server."""
        self.count += 1
        database = f"bench_{self.count}_{name}".replace("-", "_")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{tool} failed: {result.stderr.strip()[-500:]}")


def start_postgres() -> Postgres:
    """Install (apt) when missing, then start a private cluster; PostgresUnavailable if not."""
    _install_postgres()
    postgres = Postgres()
    try:
        postgres.start()
    except PostgresUnavailable:
        postgres.stop()
        raise
    return postgres


def _install_postgres() -> None:
    if _find_bin() is not None:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresUnavailable("PostgreSQL is not installed and apt-get cannot run here (root)")
    print("bench: installing PostgreSQL with apt-get (Debian's postgresql package) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        if subprocess.run(command, env=env, check=False, **QUIET).returncode != 0:  # type: ignore[call-overload]
            raise PostgresUnavailable(f"`{' '.join(command)}` failed")


def _find_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _postgres_bin() -> Path:
    found = _find_bin()
    if found is None:
        raise PostgresUnavailable("no /usr/lib/postgresql/*/bin/pg_ctl after installing")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
