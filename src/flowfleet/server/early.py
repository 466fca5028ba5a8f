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
from dataclasses import dataclass, field
from typing import Any

from flowfleet.server import wire
from flowfleet.server.connection import ConnectionError_

Key = tuple[str, str]  # (API URL, ownership marker)


@dataclass
class EarlyRead:
    """What was read of one environment before its config was validated."""

    seen: Any  # flowfleet.server.lock.Seen (not imported here: lock imports this module)
    version: str | None
    owned: list[wire.DeploymentResponse]


@dataclass
class _Entry:
    future: concurrent.futures.Future[EarlyRead]
    needs_seen: bool
    seen_taken: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_ENTRIES: dict[Key, _Entry] = {}
_TABLE = threading.Lock()


def start(reads: dict[Key, Callable[[], Awaitable[EarlyRead]]], *, needs_seen: bool) -> None:
    """Run each read in one background thread (a daemon: a command that ends first, e.g.
    on a validation error, does not wait for it)."""
    with _TABLE:
        fresh = dict(reads)
        futures: dict[Key, concurrent.futures.Future[EarlyRead]] = {}
        for key in fresh:
            futures[key] = concurrent.futures.Future()
            _ENTRIES[key] = _Entry(futures[key], needs_seen)
    if not fresh:
        return

    async def read_all() -> None:
        async def one(key: Key) -> None:
            try:
                read = await fresh[key]()
            except Exception as exc:
                _settle(futures[key], None, exc)
            else:
                _settle(futures[key], read, None)

        await asyncio.gather(*(one(key) for key in fresh))

    context = contextvars.copy_context()  # the command's deadline (see pacing)
    threading.Thread(target=context.run, args=(asyncio.run, read_all()), daemon=True).start()


def take_seen(key: Key, timeout: float) -> Any | None:
    """The lock's state read early for `key` (waiting at most `timeout` s for it), or None."""
    with _TABLE:
        entry = _ENTRIES.get(key)
    if entry is None:
        return None
    read = _result(entry.future, timeout)
    if read is None:
        _forget(key)
        return None
    with entry.lock:
        entry.seen_taken = True
    return read.seen


async def take_deployments(key: Key, timeout: float) -> EarlyRead | None:
    """The server version and owned deployments read early for `key`, once, or None."""
    entry = _forget(key)
    if entry is None or (entry.needs_seen and not entry.seen_taken):
        return None
    # asyncio.wait, not wait_for: cancelled (a sibling read failed), this task must end
    # cancelled, not with the early read's own error, which asyncio would then log.
    wrapped = asyncio.wrap_future(entry.future)
    wrapped.add_done_callback(_retrieved)
    done, _ = await asyncio.wait({wrapped}, timeout=max(0.0, timeout))
    if not done or wrapped.cancelled():
        return None
    error = wrapped.exception()
    if isinstance(error, ConnectionError_):
        raise error  # the server cannot be reached: say so now, as a read of one's own would
    return wrapped.result() if error is None else None  # else read again, which reports it


def forget_all() -> None:
    """Drop every early read not taken: a command that started them calls this when it
    ends, so none outlives it (a Python process may run many commands)."""
    with _TABLE:
        _ENTRIES.clear()


def _retrieved(future: asyncio.Future[EarlyRead]) -> None:
    """Mark an early read's error as seen, whoever waits for it or not."""
    if not future.cancelled():
        future.exception()


def _settle(
    future: concurrent.futures.Future[EarlyRead],
    read: EarlyRead | None,
    error: Exception | None,
) -> None:
    """Hand over the result, unless whoever waited for it gave up (cancelled it)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(read)  # type: ignore[arg-type]
    except concurrent.futures.InvalidStateError:
        pass


def _forget(key: Key) -> _Entry | None:
    with _TABLE:
        return _ENTRIES.pop(key, None)


def _result(future: concurrent.futures.Future[EarlyRead], timeout: float) -> EarlyRead | None:
    try:
        return future.result(timeout=max(0.0, timeout))
    except ConnectionError_:
        raise  # the server cannot be reached: say so now, as a read of one's own would
    except Exception:  # read again the usual way, which reports it
        return None
