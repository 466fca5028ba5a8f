"""Talking to one environment's Prefect API: JSON over HTTP with httpx.

Every request flowfleet sends goes through here, never through Prefect's client:
importing it costs over a second at every start, and it retries 503s with waits of up to
32 s. Bodies and answers are the typed models of `flowfleet.server.wire`. Requests are
retried with short, jittered backoff (honouring Retry-After) under an adaptive
concurrency limit (a SQLite-backed server takes one writer; a PostgreSQL-backed one takes
more). Once a request has run out of retries because the server stopped answering, the
Api is down: every later request fails at once with NotAttempted instead of retrying for
seconds each. Requests carry what Prefect's client sends: the API key as a bearer token
(or PREFECT_API_AUTH_STRING as basic auth), and its TLS settings
(PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY).
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from flowfleet._version import __version__
from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server import wire
from flowfleet.server.connection import ConnectionError_

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_ATTEMPTS = 8
PAGE = 200  # the server's maximum page size
Item = TypeVar("Item", bound=wire.Response)


class ApiError(FlowfleetError):
    """A request failed for good: the message names the environment and URL."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotAttempted(FlowfleetError):
    """The request was never sent: the server had stopped answering before its turn."""


class AdaptiveLimit:
    """At most `limit` requests in flight: halved when the server pushes back, grown by
    one after a run of successes (additive increase, multiplicative decrease)."""

    def __init__(self, start: int = 4, maximum: int = 16) -> None:
        self.limit = start
        self.maximum = maximum
        self.in_flight = 0
        self.successes = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def succeeded(self) -> None:
        self.successes += 1
        if self.successes >= 2 * self.limit and self.limit < self.maximum:
            self.limit += 1
            self.successes = 0

    def pushed_back(self) -> None:
        # Never grow back to where the server pushed back: a SQLite-backed server takes
        # one writer, and probing it again costs a failed request and a wait each time.
        self.maximum = max(1, min(self.maximum, self.limit - 1))
        self.limit = max(1, self.limit // 2)
        self.successes = 0


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0


class Api:
    """One environment's API: JSON in, JSON out, retried, concurrency-limited."""

    def __init__(self, target: Target, client: httpx.AsyncClient, limit: AdaptiveLimit) -> None:
        self.target = target
        self.client = client
        self.limit = limit
        self.stats = Stats()
        self.connected = False  # a connection error before any answer is not transient
        self.down: FlowfleetError | None = None  # set once the server has stopped answering
        # Cleared while the server does not answer: only the requests that saw it go
        # (probing) try again; the others wait for it to answer again or to be down.
        self._reachable = asyncio.Event()
        self._reachable.set()

    async def call(self, method: str, path: str, json: wire.Body | None = None) -> Any:
        """One request with a typed body (see flowfleet.server.wire); the answer's JSON. Transient
        failures are retried, others raise a FlowfleetError (NotAttempted if it was never
        sent because the server is down)."""
        payload = wire.to_json(json)
        probing = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await self._send(method, path, payload, attempt, probing=probing)
            except _Transient as transient:
                if transient.unreachable:
                    probing = True
                    self._reachable.clear()
                if attempt == MAX_ATTEMPTS or self.down is not None:
                    if transient.unreachable and self.down is None:
                        self.down = transient.error
                        self._reachable.set()  # the waiting requests now fail at once
                    raise transient.error from None
                self.limit.pushed_back()
                self.stats.retries += 1
                await asyncio.sleep(transient.retry_after or _backoff(attempt))
            except ApiError as error:
                # A DELETE retried after a lost answer finds the item already gone.
                if attempt > 1 and method == "DELETE" and error.status == 404:
                    return None
                raise
        raise AssertionError("unreachable")

    async def _send(
        self, method: str, path: str, json: Any, attempt: int = 1, *, probing: bool = False
    ) -> Any:
        async with self._turn(probing):
            if self.down is not None:
                if attempt == 1:
                    raise NotAttempted(str(self.down))
                raise ConnectionError_(str(self.down))
            self.stats.requests += 1
            try:
                response = await self.client.request(method, path.lstrip("/"), json=json)
            except httpx.TransportError as exc:
                unreachable = ConnectionError_(
                    f"environment '{self.target.environment}': cannot reach "
                    f"{self.target.url} ({type(exc).__name__}: {exc or 'no answer'})"
                )
                if isinstance(exc, httpx.ConnectError) and not self.connected:
                    self.down = unreachable  # never reached at all: fail fast
                    raise unreachable from None
                raise _Transient(unreachable, unreachable=True) from None
        self.connected = True
        self._reachable.set()
        if response.is_error:
            error = self._error(method, path, response)
            if response.status_code in RETRY_STATUSES:
                raise _Transient(error, _retry_after(response))
            raise error
        self.limit.succeeded()
        return response.json() if response.content else None

    @asynccontextmanager
    async def _turn(self, probing: bool) -> AsyncIterator[None]:
        """A slot under the limit; while the server does not answer, only for probing."""
        while True:
            if not probing:
                await self._reachable.wait()
            async with self.limit.slot():
                if probing or self._reachable.is_set():
                    yield
                    return

    def _error(self, method: str, path: str, response: httpx.Response) -> FlowfleetError:
        where = f"environment '{self.target.environment}' ({self.target.url})"
        if response.status_code in (401, 403):
            return ConnectionError_(
                f"{where}: the server refused the request ({response.status_code}); "
                "check the API key variable named by api_key_env"
            )
        detail = _detail(response)
        if self.target.api_key:  # a server may echo what it was sent; never print the key
            detail = detail.replace(self.target.api_key, "***")
        return ApiError(
            f"{where}: {method} {path} failed with {response.status_code}: {detail}",
            response.status_code,
        )

    async def read_all(self, path: str, body: wire.Page, item: type[Item]) -> list[Item]:
        """Every item of a `/filter` endpoint, in pages of 200, read as `item`."""
        items: list[Item] = []
        while True:
            paged = body.model_copy(update={"limit": PAGE, "offset": len(items)})
            page = await self.call("POST", path, paged)
            items.extend(item.model_validate(data) for data in page)
            if len(page) < PAGE:
                return items


class _Transient(Exception):
    """A failure worth retrying; `error` is what to raise if retries run out."""

    def __init__(
        self, error: FlowfleetError, retry_after: float | None = None, *, unreachable: bool = False
    ) -> None:
        self.error = error
        self.retry_after = retry_after
        self.unreachable = unreachable  # no answer at all (connection refused, reset, timeout)


def _backoff(attempt: int) -> float:
    """Short, jittered exponential backoff: ~0.1, 0.2, 0.4 … capped at 3 s."""
    return min(3.0, 0.1 * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.5)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    return str(data.get("detail", data) if isinstance(data, dict) else data)[:500]


@asynccontextmanager
async def connect(
    target: Target,
    *,
    concurrency: int = 4,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Api]:
    """An Api for `target`. `transport` is a seam for tests (an `httpx.MockTransport`
    standing in for the server); None, the default, is httpx's own network transport."""
    async with httpx.AsyncClient(
        base_url=f"{target.url.rstrip('/')}/",
        headers=_headers(target),
        verify=_verify(),
        timeout=httpx.Timeout(60.0, connect=10.0),
        transport=transport,
    ) as client:
        # A local server is SQLite-backed: one writer at a time from the start.
        limit = AdaptiveLimit(start=1, maximum=1) if target.local else AdaptiveLimit(concurrency)
        yield Api(target, client, limit)


def _headers(target: Target) -> dict[str, str]:
    headers = {"User-Agent": f"flowfleet/{__version__}"}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if target.api_key:
        headers["Authorization"] = f"Bearer {target.api_key}"
    elif auth:
        headers["Authorization"] = f"Basic {base64.b64encode(auth.encode()).decode()}"
    return headers


def _verify() -> ssl.SSLContext | str | bool:
    if os.environ.get("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "").lower() in ("1", "true"):
        return False
    return os.environ.get("PREFECT_API_SSL_CERT_FILE") or True
