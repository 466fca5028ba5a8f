"""A fault-injecting HTTP proxy in front of a real Prefect server, for tests.

A small HTTP/1.1 server (asyncio, in a thread of the test process) forwards each request
to the real server with httpx, except a seeded random fraction that it answers itself:
503, 429 with `Retry-After: 1`, a connection reset (RST, before the request is forwarded)
or a delay before forwarding. With `refuse` set it answers every request with that
status (401/403) and forwards nothing. Every request is logged: when it arrived, what it
was, and what the client got.

Lost answers: with `lose` set, a seeded fraction of each kind of write (see `write_kind`)
is forwarded, the server acts, and then its answer never reaches the client: the proxy
drops the connection (RST) or, for a fraction `late` of them, holds the answer for
`late_seconds` (set it past the client's timeout) and closes. Which writes lose their
answer depends only on the seed and the request (method, path, body), not on the order
in which requests arrive, and the retry of a lost one gets its answer. `slow` answers
one endpoint only after `slow_seconds`; `down_after` makes the server vanish (every
request reset) once that many writes have been forwarded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    lose: Mapping[str, float] = field(default_factory=dict)  # write kind -> fraction lost
    late: float = 0.0  # of the lost answers, the fraction held past the client's timeout
    late_seconds: float = 3.0
    slow: tuple[str, str] | None = None  # (method, path) answered after slow_seconds
    slow_seconds: float = 90.0
    down_after: int | None = None  # writes forwarded before the server "vanishes"
    # ...except for these write kinds (and reads of variables): a lease taken before the
    # failure can be released, so the next apply need not wait for it to expire
    down_spares: frozenset[str] = frozenset({"lock"})


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
    kind: str | None = None  # the write kind (write_kind), None for reads
    lost: str | None = None  # "drop" or "late": forwarded, acted on, answer never delivered

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
        self._variables: dict[str, str] = {}  # variable id -> name, learned from answers
        self._lost_keys: set[str] = set()
        self._writes = 0
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

    def lost(self) -> list[Seen]:
        """The writes whose answer was lost after the server acted."""
        return [s for s in self.log if s.lost]

    def lost_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for seen in self.lost():
            assert seen.kind is not None
            counts[seen.kind] = counts.get(seen.kind, 0) + 1
        return counts

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
        except asyncio.CancelledError:
            pass  # the proxy is stopping while a slow or late answer waits
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
        kind = self._write_kind(method, path, body)
        seen = {"arrived": arrived, "method": method, "path": path, "key": key, "fault": fault}
        if self._vanished(method, path, kind):
            seen["fault"] = "down"
            self.log.append(Seen(**seen, status=None, answered=time.monotonic(), forwarded=False))
            _reset(writer)
            return False
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
        slow = self.plan.slow
        if slow is not None and (method, path.split("?", 1)[0]) == slow:
            # logged when it arrives: the client gives up long before the answer comes
            held = Seen(**{**seen, "fault": "slow"}, status=None, answered=arrived, forwarded=False)
            self.log.append(held)
            await asyncio.sleep(self.plan.slow_seconds)
        forward = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
        response = await self._client.request(method, path, content=body, headers=forward)
        status = response.status_code
        self._writes += kind is not None
        self._learn(response)
        lost = self._loses(kind, key, status)
        self.log.append(
            Seen(
                **seen,
                status=status,
                answered=time.monotonic(),
                forwarded=True,
                kind=kind,
                lost=lost,
            )
        )
        if lost == "drop":
            _reset(writer)
            return False
        if lost == "late":
            await asyncio.sleep(self.plan.late_seconds)  # the client has given up by now
            return False
        await _answer(writer, status, response.content, {})
        return True

    def _vanished(self, method: str, path: str, kind: str | None) -> bool:
        if self.plan.down_after is None or self._writes < self.plan.down_after:
            return False
        spared = kind in self.plan.down_spares or (
            method == "GET" and "/variables/name/flowfleet_lock__" in path
        )
        return not spared

    def _loses(self, kind: str | None, key: str, status: int) -> str | None:
        """Whether this answer is lost, and how: seeded by the request, first sending only."""
        fraction = self.plan.lose.get(kind or "", 0.0)
        if key in self._lost_keys:  # the retry of a lost one: delivered (the same request
            self._lost_keys.discard(key)  # in a later apply may lose its answer again)
            return None
        if not fraction or status >= 300:
            return None
        if _draw(self.plan.seed, key, "lose") >= fraction:
            return None
        self._lost_keys.add(key)
        return "late" if _draw(self.plan.seed, key, "late") < self.plan.late else "drop"

    def _write_kind(self, method: str, path: str, body: bytes) -> str | None:
        name = None
        if path.rstrip("/").endswith("/api/variables") and method == "POST":
            data = _json(body)
            name = data.get("name") if isinstance(data, dict) else None
        return write_kind(method, path, name, self._variables)

    def _learn(self, response: httpx.Response) -> None:
        """Remember variable ids and names, to tell the lock's writes by id from others."""
        if "/variables" not in str(response.request.url) or not response.content:
            return
        data = _json(response.content)
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and "id" in item and "name" in item:
                self._variables[str(item["id"])] = str(item["name"])

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


_KINDS = [  # (methods, path pattern below /api, write kind); the first match wins
    ("POST", r"/flows/?", "flow"),
    ("POST PATCH DELETE", r"/deployments/[^/]+/schedules(/.*)?", "schedule"),
    ("POST", r"/deployments/?", "deployment"),
    ("PATCH DELETE", r"/deployments/[^/]+", "deployment"),
    ("POST PATCH", r"/work_pools/[^/]+/queues(/.*)?", "work_queue"),
    ("DELETE", r"/work_queues/[^/]+", "work_queue"),
    ("POST", r"/work_pools/?", "work_pool"),
    ("PATCH DELETE", r"/work_pools/[^/]+", "work_pool"),
    ("POST PATCH DELETE", r"/v2/concurrency_limits(/[^/]+)?/?", "concurrency_limit"),
    ("POST PATCH DELETE", r"/block_documents(/[^/]+)?/?", "block"),
    ("POST", r"/block_(types|schemas)/?", "block_type"),
    ("POST PATCH DELETE", r"/variables(/name)?(/[^/]+)?/?", "variable"),
    ("POST PUT PATCH DELETE", r"/automations(/[^/]+)?/?", "automation"),
]


def write_kind(
    method: str, path: str, name: str | None = None, variables: Mapping[str, str] | None = None
) -> str | None:
    """Which kind of write a request is (None for reads). Variables are told apart by
    name: the lock, the generation, the ownership ledger, or a declared variable."""
    path = path.split("?", 1)[0].removeprefix("/api")
    if path.endswith(("/filter", "/count")) or method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    kind = next(
        (k for methods, pattern, k in _KINDS if method in methods and re.fullmatch(pattern, path)),
        None,
    )
    if kind is None:
        return None
    if kind != "variable":
        return kind
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    name = name or (tail if "/name/" in path else (variables or {}).get(tail, ""))
    for prefix, variable_kind in (
        ("flowfleet_lock__", "lock"),
        ("flowfleet_generation__", "generation"),
        ("flowfleet__", "ledger"),
    ):
        if name.startswith(prefix):
            return variable_kind
    return "variable"


def _draw(seed: int, key: str, what: str) -> float:
    """A number in [0, 1) fixed by the seed and the request."""
    digest = hashlib.sha256(f"{seed}:{what}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return {}
