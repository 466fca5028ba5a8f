"""A fault-injecting HTTP proxy in front of a real Prefect server, for tests.

A small HTTP/1.1 server (asyncio, in a thread of the test process) forwards each request
to the real server with httpx, except a seeded random fraction that it answers itself:
503, 429 with `Retry-After: 1`, a connection reset (RST, before the request is forwarded)
or a delay before forwarding. With `refuse` set it answers every request with that
status (401/403) and forwards nothing. Every request is logged: when it arrived, what it
was, and what the client got.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import httpx

RETRIED = frozenset({408, 425, 429, 500, 502, 503, 504})  # what flowfleet retries
HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


@dataclass(frozen=True)
class FaultPlan:
    """Fractions of requests answered with a fault (the rest are forwarded untouched)."""

    seed: int = 0
    unavailable: float = 0.0  # 503
    too_many: float = 0.0  # 429 with Retry-After: 1
    reset: float = 0.0  # connection reset, nothing forwarded
    delay: float = 0.0  # forwarded after `delay_seconds`
    delay_seconds: float = 0.3
    refuse: int | None = None  # answer everything with this status (401, 403)


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it."""

    arrived: float  # time.monotonic()
    method: str
    path: str
    key: str  # method, path and body: a retry of the same request has the same key
    fault: str | None  # "503", "429", "reset", "delay", "refuse" or None
    status: int | None  # what the client got; None for a reset
    answered: float
    forwarded: bool

    @property
    def is_write(self) -> bool:
        if self.method in ("PATCH", "DELETE", "PUT"):
            return True
        return self.method == "POST" and not self.path.rstrip("/").endswith(("/filter", "/count"))

    @property
    def retriable(self) -> bool:
        """flowfleet retries this answer (or the lack of one)."""
        return self.status is None or self.status in RETRIED


@dataclass
class FaultProxy:
    upstream: str  # e.g. http://127.0.0.1:4200 (no /api)
    plan: FaultPlan
    log: list[Seen] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.plan.seed)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def faults(self, kind: str | None = None) -> list[Seen]:
        return [s for s in self.log if s.fault and (kind is None or s.fault == kind)]

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        # Connections still open (keep-alive) end here, not when garbage-collected.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(_settle(pending))
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60)
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server, self._client:
            await self._stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        arrived = time.monotonic()
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = dict(
            (k.strip().lower(), v.strip()) for k, v in (h.split(":", 1) for h in lines[1:] if h)
        )
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        key = hashlib.sha256(f"{method} {path} ".encode() + body).hexdigest()
        fault = self._fault()
        seen = {"arrived": arrived, "method": method, "path": path, "key": key, "fault": fault}
        if fault == "reset":
            self.log.append(Seen(**seen, status=None, answered=time.monotonic(), forwarded=False))
            _reset(writer)
            return False
        if fault in ("503", "429", "refuse"):
            status = int(fault) if fault != "refuse" else self.plan.refuse or 401
            extra = {"Retry-After": "1"} if status == 429 else {}
            # echo the credentials, as a careless server might: they must never be shown
            detail = {"detail": f"injected {status}; got {headers.get('authorization')}"}
            self.log.append(Seen(**seen, status=status, answered=time.monotonic(), forwarded=False))
            await _answer(writer, status, json.dumps(detail).encode(), extra)
            return True
        if fault == "delay":
            await asyncio.sleep(self.plan.delay_seconds)
        forward = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        response = await self._client.request(method, path, content=body, headers=forward)
        status = response.status_code
        self.log.append(Seen(**seen, status=status, answered=time.monotonic(), forwarded=True))
        await _answer(writer, status, response.content, {})
        return True

    def _fault(self) -> str | None:
        plan = self.plan
        if plan.refuse is not None:
            return "refuse"
        roll = self._random.random()
        for kind, fraction in (
            ("503", plan.unavailable),
            ("429", plan.too_many),
            ("reset", plan.reset),
            ("delay", plan.delay),
        ):
            if roll < fraction:
                return kind
            roll -= fraction
        return None


async def _answer(
    writer: asyncio.StreamWriter, status: int, body: bytes, extra: dict[str, str]
) -> None:
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json"]
    head += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in extra.items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def _settle(tasks: set[asyncio.Task[object]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashing server or a proxy would."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
