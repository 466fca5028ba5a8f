"""Talking to one environment's Prefect API: JSON over HTTP with httpx.

Every request flowfleet sends goes through here, never through Prefect's client:
importing it costs over a second at every start, and it retries 503s with waits of up to
32 s. Bodies and answers are the typed models of `flowfleet.server.wire`. Requests are
retried with short, jittered backoff (honouring Retry-After) under an adaptive
concurrency limit (a SQLite-backed server takes one writer; a PostgreSQL-backed one takes
more). Once a request has run out of retries because the server stopped answering, the
Api is down: every later request fails at once with NotAttempted instead of retrying for
seconds each. Requests carry what Prefect's client sends: the API key as a bearer token
(or PREFECT_API_AUTH_STRING as basic auth), its TLS settings (PREFECT_API_SSL_CERT_FILE,
PREFECT_API_TLS_INSECURE_SKIP_VERIFY) and its per-request timeout
(PREFECT_API_REQUEST_TIMEOUT, 60 s by default).

A retried write may already have taken effect: its answer can be lost after the server
acted (a dropped connection, a timeout). Such a retry first runs the caller's `lookup`,
which finds the earlier write by name (and the same content); so does a 409 answer to
the retry. A command's `deadline` (see `deadline_in`) bounds everything: once it passes,
nothing more is sent, and requests in flight end at it.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server import wire
from flowfleet.server.client_settings import headers, request_timeout, tls_context
from flowfleet.server.connection import ConnectionError_
from flowfleet.server.pacing import CURRENT_DEADLINE, AdaptiveLimit, Deadline, DeadlineReached
from flowfleet.server.turns import writing_to

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
PRESSURE_STATUSES = frozenset({429, 503})  # the server's own back-pressure
MAYBE_APPLIED_STATUSES = frozenset({500, 502, 504})  # the server (or a proxy) may have acted
MAX_ATTEMPTS = 8
CONNECT_TIMEOUT = 10.0
DROPS_BEFORE_UNREACHABLE = 3
PAGE = 200  # the server's maximum page size
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Item = TypeVar("Item", bound=wire.Response)


class ApiError(FlowfleetError):
    """A request failed for good: the message names the environment and URL."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotAttempted(FlowfleetError):
    """The request was never sent: the server had stopped answering (or the command's
    deadline had passed) before its turn."""


# Set while a lookup runs for a request whose answer was lost: the lookup's own requests
# then go out even while the server is being probed (they are part of that probe).
_PROBING: ContextVar[bool] = ContextVar("flowfleet_probing", default=False)
Lookup = Callable[[], Awaitable[Any]]


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0


class Api:
    """One environment's API: JSON in, JSON out, retried, concurrency-limited."""

    def __init__(
        self,
        target: Target,
        client: httpx.AsyncClient,
        limit: AdaptiveLimit,
        deadline: Deadline | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.limit = limit
        self.deadline = deadline
        self.request_timeout = request_timeout()
        self.stats = Stats()
        self.connected = False  # a connection error before any answer is not transient
        self.down: FlowfleetError | None = None  # set once the server has stopped answering
        self._dropped = 0  # connections dropped in a row, with no answer in between
        # Cleared while the server does not answer: only the requests that saw it go
        # (probing) try again; the others wait for it to answer again or to be down.
        self._reachable = asyncio.Event()
        self._reachable.set()
        self._sending: set[asyncio.Task[Any]] = set()  # tasks with a request under way

    async def call(
        self,
        method: str,
        path: str,
        json: wire.Body | None = None,
        *,
        lookup: Lookup | None = None,
        first: bool = False,
    ) -> Any:
        """One request with a typed body (see flowfleet.server.wire); the answer's JSON. Transient
        failures are retried, others raise a FlowfleetError (NotAttempted if it was never
        sent because the server is down or the deadline passed). For a write that is not
        safe to repeat, `lookup` finds it on the server (None: not there, or not as sent):
        it runs before a retry that follows a lost answer, and on a 409 to such a retry,
        and what it finds is the answer."""
        payload = wire.to_json(json)
        probing = _PROBING.get()
        maybe_applied = False  # an earlier attempt may have reached the server and acted
        reached = False  # an attempt reached the server (else, failing, it was not attempted)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if maybe_applied and lookup is not None:
                found = await self._look(lookup)
                if found is not None:
                    return found
            try:
                return await self._send(method, path, payload, attempt, probing, first)
            except _Transient as transient:
                maybe_applied = maybe_applied or transient.maybe_applied
                reached = reached or transient.reached
                if transient.unreachable:
                    probing = True
                    self._reachable.clear()
                if attempt == MAX_ATTEMPTS or self.down is not None or self._past_deadline():
                    if transient.unreachable and self.down is None:
                        self.down = transient.error
                        self._reachable.set()  # the waiting requests now fail at once
                    error = self._deadline_error() if self._past_deadline() else transient.error
                    if not reached:  # refused every time: it never got to the server
                        raise NotAttempted(str(error)) from None
                    raise error from None
                if transient.pressure:
                    self.limit.pushed_back()
                self.stats.retries += 1
                wait = _backoff(attempt) if transient.retry_after is None else transient.retry_after
                await asyncio.sleep(min(wait, self._remaining()))
            except ApiError as error:
                # A DELETE retried after a lost answer finds the item already gone.
                if attempt > 1 and method == "DELETE" and error.status == 404:
                    return None
                if maybe_applied and lookup is not None and error.status == 409:
                    found = await self._look(lookup)
                    if found is not None:
                        return found
                raise
        raise AssertionError("unreachable")

    async def _look(self, lookup: Lookup) -> Any:
        token = _PROBING.set(True)
        try:
            return await lookup()
        finally:
            _PROBING.reset(token)

    def stop_reason(self) -> str | None:
        """Why this Api stopped sending, for a summary; None while it sends."""
        if isinstance(self.down, DeadlineReached) and self.deadline is not None:
            return f"the deadline of {self.deadline.seconds:g} s (--timeout) was reached"
        return None if self.down is None else "the server stopped answering"

    def _remaining(self) -> float:
        return float("inf") if self.deadline is None else max(0.0, self.deadline.remaining())

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.deadline.remaining() <= 0

    def _deadline_error(self) -> DeadlineReached:
        """Once the deadline has passed the Api is down: later requests are not sent."""
        assert self.deadline is not None
        error = DeadlineReached(
            f"environment '{self.target.environment}' ({self.target.url}): the deadline of "
            f"{self.deadline.seconds:g} s (--timeout) was reached; nothing more was sent"
        )
        if not isinstance(self.down, DeadlineReached):
            self.down = error
            self._reachable.set()
        return error

    async def _send(
        self, method: str, path: str, json: Any, attempt: int, probing: bool, first: bool
    ) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)
        try:
            return await self._send_in_turn(method, path, json, attempt, probing, first)
        finally:
            self._sending.discard(task)

    async def settle(self) -> None:
        """Cancel the requests that other tasks still have under way, and wait for them:
        none outlives the connection (when one read of a plan fails, its siblings' are
        still going)."""
        others = [t for t in self._sending if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _send_in_turn(
        self, method: str, path: str, json: Any, attempt: int, probing: bool, first: bool
    ) -> Any:
        async with self._turn(probing, first):
            if self._past_deadline():
                self._deadline_error()
            if self.down is not None:
                if attempt == 1:
                    raise NotAttempted(str(self.down))
                stopped = isinstance(self.down, DeadlineReached)
                raise _Transient((DeadlineReached if stopped else ConnectionError_)(str(self.down)))
            self.stats.requests += 1
            remaining = self._remaining()
            timeout = httpx.Timeout(
                min(self.request_timeout, remaining), connect=min(CONNECT_TIMEOUT, remaining)
            )
            sent = time.monotonic()
            try:
                response = await self.client.request(
                    method, path.lstrip("/"), json=json, timeout=timeout
                )
            except httpx.TransportError as exc:
                raise self._transport_failure(exc) from None
        self.connected = True
        self._dropped = 0
        self._reachable.set()
        if response.is_error:
            error = self._error(method, path, response)
            if response.status_code in RETRY_STATUSES:
                retry_after = _retry_after(response)
                raise _Transient(
                    error,
                    retry_after,
                    pressure=response.status_code in PRESSURE_STATUSES or retry_after is not None,
                    maybe_applied=response.status_code in MAYBE_APPLIED_STATUSES,
                    reached=True,
                )
            raise error
        self.limit.succeeded(f"{method} {_ID.sub('{id}', path)}", time.monotonic() - sent)
        return response.json() if response.content else None

    def _transport_failure(self, exc: httpx.TransportError) -> Exception:
        """What a request that got no answer raises: a slow or lost answer (a timeout, one
        connection dropped mid-request) is retried while the other requests go on; a
        server that cannot be connected to, or drops several requests in a row, is not
        answering; one never reached at all fails at once."""
        unreachable = ConnectionError_(
            f"environment '{self.target.environment}': cannot reach "
            f"{self.target.url} ({type(exc).__name__}: {exc or 'no answer'})"
        )
        refused = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        never_sent = refused or isinstance(exc, httpx.PoolTimeout)
        if refused and not self.connected:
            self.down = unreachable
            return unreachable
        slow = isinstance(exc, httpx.TimeoutException)
        self._dropped = 0 if slow else self._dropped + 1
        silent = refused or self._dropped >= DROPS_BEFORE_UNREACHABLE
        return _Transient(
            unreachable, unreachable=silent, maybe_applied=not never_sent, reached=not never_sent
        )

    @asynccontextmanager
    async def _turn(self, probing: bool, first: bool) -> AsyncIterator[None]:
        """A slot under the limit; while the server does not answer, only for probing."""
        while True:
            if not probing:
                await self._reachable.wait()
            async with self.limit.slot(first=first):
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
        self,
        error: FlowfleetError,
        retry_after: float | None = None,
        *,
        unreachable: bool = False,
        pressure: bool = False,
        maybe_applied: bool = False,
        reached: bool = False,
    ) -> None:
        self.error = error
        self.retry_after = retry_after  # None: no Retry-After (0 is "retry now")
        self.unreachable = unreachable  # the server could not be connected to at all
        self.pressure = pressure  # the server pushed back: send less at once
        self.maybe_applied = maybe_applied  # sent, and no answer says it was not applied
        self.reached = reached  # the server got the request (it may have answered)


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
    concurrency: int = 16,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Api]:
    """An Api for `target`. `transport` is a seam for tests (an `httpx.MockTransport`
    standing in for the server); None, the default, is httpx's own network transport."""
    async with httpx.AsyncClient(
        base_url=f"{target.url.rstrip('/')}/",
        headers=headers(target),
        verify=tls_context(),
        timeout=httpx.Timeout(request_timeout(), connect=CONNECT_TIMEOUT),
        transport=transport,
    ) as client:
        # A local server is SQLite-backed: one writer at a time from the start; others
        # start at one too, and grow up to `concurrency` until the server pushes back.
        limit = AdaptiveLimit(1, 1 if target.local else concurrency)
        api = Api(target, client, limit, CURRENT_DEADLINE.get())

        def call_first(method: str, path: str, body: Any) -> Coroutine[Any, Any, Any]:
            return api.call(method, path, body, first=True)

        with writing_to(target.url, call_first):
            try:
                yield api
            finally:
                await api.settle()
