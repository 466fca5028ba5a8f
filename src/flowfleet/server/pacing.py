"""How fast and how long flowfleet talks to a server: the adaptive concurrency limit (a
SQLite-backed server takes one writer, a PostgreSQL-backed one more) and a command's
deadline (--timeout), after which nothing more is sent."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flowfleet.errors import FlowfleetError

DEFAULT_DEADLINE = 1800.0  # a command's --timeout: far beyond any healthy apply
QUEUED = 2.0  # requests waiting in the server, on average, at which the limit stops growing


class DeadlineReached(FlowfleetError):
    """The command's deadline (--timeout) passed: nothing more is sent."""


@dataclass(frozen=True)
class Deadline:
    """When a command must stop sending (time.monotonic()), and its length for messages."""

    at: float
    seconds: float

    def remaining(self) -> float:
        return self.at - time.monotonic()


CURRENT_DEADLINE: ContextVar[Deadline | None] = ContextVar("flowfleet_deadline", default=None)


@contextmanager
def deadline_in(seconds: float | None) -> Iterator[None]:
    """Every request made inside (in this thread, and tasks started from it) is sent only
    before `seconds` from now, and waits for its answer at most until then. None: none."""
    token = CURRENT_DEADLINE.set(
        None if seconds is None else Deadline(time.monotonic() + seconds, seconds)
    )
    try:
        yield
    finally:
        CURRENT_DEADLINE.reset(token)


class AdaptiveLimit:
    """At most `limit` requests in flight. It starts at one and grows by one after a run
    of successes, unless answers show requests waiting inside the server (their time
    beyond the fastest answer of their kind, as in TCP Vegas): one server process that is
    busy answers no faster with more at once (a PostgreSQL-backed one took ~40 % longer
    per deployment at 16 at once than at 2-4), while a distant one with idle time does.
    It is halved when the server pushes back (429, 503), never to grow back to where
    that happened: a SQLite-backed server takes one writer, and the first two writes
    sent at once find that out at the cost of one refused request (starting at four
    cost three).

    Waiting requests get their turn first come, first served (`first`: ahead of them),
    one woken per free slot: waking all of them at every release (a condition's
    notify_all) made a cold apply of 1,000 deployments queued behind one writer spend
    more time waking waiters than waiting for the server."""

    def __init__(self, start: int = 1, maximum: int = 16) -> None:
        self.limit = start
        self.maximum = maximum
        self.in_flight = 0
        self.successes = 0
        self._queued = 0.0  # the estimates of the run of successes so far, summed
        self._fastest: dict[str, float] = {}  # seconds, per kind of request
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return sum(not turn.done() for turn in self._waiting)

    @asynccontextmanager
    async def slot(self, *, first: bool = False) -> AsyncIterator[None]:
        if self._waiting or self.in_flight >= self.limit:
            await self._wait_for_turn(first)
        else:
            self.in_flight += 1
        try:
            yield
        finally:
            self._release()

    async def _wait_for_turn(self, first: bool) -> None:
        turn = asyncio.get_running_loop().create_future()
        if first:
            self._waiting.appendleft(turn)
        else:
            self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed a slot, then cancelled
                self._release()
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def _release(self) -> None:
        self.in_flight -= 1
        self._admit()

    def _admit(self) -> None:
        """Pass free slots to the longest-waiting requests."""
        while self._waiting and self.in_flight < self.limit:
            turn = self._waiting.popleft()
            if not turn.done():  # else cancelled while waiting
                self.in_flight += 1
                turn.set_result(None)

    def succeeded(self, kind: str = "", seconds: float = 0.0) -> None:
        """One answer, to a request of `kind` (method and path) that took `seconds`."""
        self.successes += 1
        self._queued += self._queue_estimate(kind, seconds)
        if self.successes < 2 * self.limit:
            return
        busy = self._queued / self.successes >= QUEUED
        self.successes, self._queued = 0, 0.0
        if not busy and self.limit < self.maximum:
            self.limit += 1
            self._admit()

    def _queue_estimate(self, kind: str, seconds: float) -> float:
        """Requests that waited in the server beside this one: the limit times the share
        of its time beyond the fastest answer of its kind."""
        if seconds <= 0:
            return 0.0
        fastest = self._fastest[kind] = min(self._fastest.get(kind, seconds), seconds)
        return self.limit * (1 - fastest / seconds)

    def pushed_back(self) -> None:
        """The server said it is overloaded (429, 503, Retry-After), not merely failed."""
        # Never grow back to where the server pushed back: a SQLite-backed server takes
        # one writer, and probing it again costs a failed request and a wait each time.
        self.maximum = max(1, min(self.maximum, self.limit - 1))
        self.limit = max(1, self.limit // 2)
        self.successes, self._queued = 0, 0.0
