"""How fast and how long flowfleet talks to a server: the adaptive concurrency limit (a
SQLite-backed server takes one writer, a PostgreSQL-backed one more) and a command's
deadline (--timeout), after which nothing more is sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flowfleet.errors import FlowfleetError

DEFAULT_DEADLINE = 1800.0  # a command's --timeout: far beyond any healthy apply


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
        """The server said it is overloaded (429, 503, Retry-After), not merely failed."""
        # Never grow back to where the server pushed back: a SQLite-backed server takes
        # one writer, and probing it again costs a failed request and a wait each time.
        self.maximum = max(1, min(self.maximum, self.limit - 1))
        self.limit = max(1, self.limit // 2)
        self.successes = 0
