"""Reading each environment's server while its config is still being validated.

Validating a config is work for this process; answering `/deployments/filter` is work for
the server's. Started as soon as a config is loaded (before it is validated), the reads
that depend on nothing but the environment run side by side with the validation, in a
thread of their own: for each environment, the lock's generation and the lock (in the
order flowfleet.server.lock needs), the server's version, and every deployment carrying
the environment's ownership marker. Planning then takes them instead of reading again.

They are reads only, and they are a head start: a failed or unfinished one is read
again, the usual way, by whoever needs it (which then reports what is wrong), except a
server that could not be reached at all, which is reported as it is (reaching it again
would only double the wait). They run under the command's deadline. Each is used at
most once: a plan made again under the lock reads afresh. An apply takes the deployments
read early only if it took the lock's state read before them (`needs_seen`): otherwise
another apply could have written in between unseen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flowfleet.server import wire
from flowfleet.server.connection import ConnectionError_
from flowfleet.server.pacing import CURRENT_DEADLINE, DEFAULT_DEADLINE

Key = tuple[str, str]  # (API URL, ownership marker)
Future = concurrent.futures.Future


@dataclass(frozen=True)
class Seen:
    """What a run saw of one environment's lock before planning (see flowfleet.server.lock)."""

    held: bool
    generation: str | None


@dataclass
class EarlyRead:
    """What was read of one environment before its config was validated."""

    seen: Seen
    version: str | None
    owned: list[wire.DeploymentResponse]


@dataclass
class _Entry:
    future: Future[EarlyRead]
    needs_seen: bool
    seen_taken: bool = False


_ENTRIES: dict[Key, _Entry] = {}
_TABLE = threading.Lock()


def start(reads: dict[Key, Callable[[], Awaitable[EarlyRead]]], *, needs_seen: bool) -> None:
    """Run each read in one background thread (a daemon: a command that ends first, e.g.
    on a validation error, does not wait for it), under the caller's deadline."""
    if not reads:
        return
    futures: dict[Key, Future[EarlyRead]] = {key: Future() for key in reads}
    with _TABLE:
        _ENTRIES.update({key: _Entry(future, needs_seen) for key, future in futures.items()})

    async def one(key: Key) -> None:
        try:
            futures[key].set_result(await reads[key]())
        except Exception as exc:
            futures[key].set_exception(exc)

    async def read_all() -> None:
        await asyncio.gather(*(one(key) for key in reads))

    context = contextvars.copy_context()  # the command's deadline (see pacing)
    threading.Thread(target=context.run, args=(asyncio.run, read_all()), daemon=True).start()


def take_seen(key: Key, timeout: float | None = None) -> Seen | None:
    """The lock's state read early for `key`, or None; waits at most `timeout` seconds
    (default: until the command's deadline)."""
    with _TABLE:
        entry = _ENTRIES.get(key)
    if entry is None:
        return None
    done, _ = concurrent.futures.wait([entry.future], timeout=_wait(timeout))
    read = _usable(entry.future) if done else None
    if read is None:
        _forget(key)
        return None
    entry.seen_taken = True
    return read.seen


async def take_deployments(key: Key, timeout: float | None = None) -> EarlyRead | None:
    """The server version and owned deployments read early for `key`, once, or None;
    waits at most `timeout` seconds (default: until the command's deadline)."""
    entry = _forget(key)
    if entry is None or (entry.needs_seen and not entry.seen_taken):
        return None
    # asyncio.wait, not wait_for: cancelled (a sibling read failed), this task must end
    # cancelled, not with the early read's own error, which asyncio would then log.
    wrapped = asyncio.wrap_future(entry.future)
    wrapped.add_done_callback(_retrieved)
    done, _ = await asyncio.wait({wrapped}, timeout=_wait(timeout))
    return _usable(entry.future) if done else None


def forget_all() -> None:
    """Drop every early read not taken: a command that started them calls this when it
    ends, so none outlives it (a Python process may run many commands)."""
    with _TABLE:
        _ENTRIES.clear()


def _usable(future: Future[EarlyRead]) -> EarlyRead | None:
    """A finished read; None if it failed (read again the usual way, which reports it),
    except a server that cannot be reached: that is raised now, as a read of one's own
    would raise it (reaching it again would only double the wait)."""
    error = future.exception()
    if isinstance(error, ConnectionError_):
        raise error
    return future.result() if error is None else None


def _wait(timeout: float | None) -> float:
    if timeout is None:
        deadline = CURRENT_DEADLINE.get()
        timeout = deadline.remaining() if deadline is not None else DEFAULT_DEADLINE
    return max(0.0, timeout)


def _retrieved(future: asyncio.Future[EarlyRead]) -> None:
    """Mark the wrapper's error as seen, whether or not anyone waits for it any more."""
    if not future.cancelled():
        future.exception()


def _forget(key: Key) -> _Entry | None:
    with _TABLE:
        return _ENTRIES.pop(key, None)
