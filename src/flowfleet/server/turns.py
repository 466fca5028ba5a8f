"""A request from another thread, sent in turn by the Api that is writing to its server.

The lock's renewal runs in a thread of its own while an apply writes. Sent beside the
apply's writes, it raced them: a SQLite-backed server refuses two writers at once (503
"database is locked"), and one kept busy by an apply refused renewal after renewal.
While an Api is open, its event loop and queue take such requests: each goes out next,
ahead of the requests waiting for a slot (see AdaptiveLimit.slot).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Call = Callable[[str, str, Any], Coroutine[Any, Any, Any]]  # (method, path, body) -> answer


class NoWriter(Exception):
    """No Api of this process is writing to that server, or it closed meanwhile."""


@dataclass
class _Writer:
    loop: asyncio.AbstractEventLoop
    call_first: Call
    pending: set[concurrent.futures.Future[Any]] = field(default_factory=set)


_WRITERS: dict[str, _Writer] = {}
_LOCK = threading.Lock()  # the table, and each writer's pending requests


@contextmanager
def writing_to(url: str, call_first: Call) -> Iterator[None]:
    """While inside, `send_in_turn(url, ...)` from other threads is sent with `call_first`
    on the running event loop (the first Api opened for a URL is its writer). On the way
    out, requests not answered yet are cancelled: their senders go their own way."""
    writer = _Writer(asyncio.get_running_loop(), call_first)
    with _LOCK:
        mine = _WRITERS.setdefault(url, writer) is writer
    try:
        yield
    finally:
        if mine:
            with _LOCK:
                del _WRITERS[url]
                pending = list(writer.pending)
            for future in pending:
                future.cancel()


async def send_in_turn(url: str, method: str, path: str, body: Any, timeout: float) -> Any:
    """From another thread: one request sent by the Api writing to `url`, ahead of its
    queue; NoWriter if there is none, it closed first, or no answer came within
    `timeout` seconds. Errors of the request itself are raised as they are."""
    future = _submit(url, method, path, body)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except TimeoutError:
        future.cancel()
    except RuntimeError:  # its client had closed
        pass
    except asyncio.CancelledError:
        if not future.cancelled():  # this thread's own task was cancelled
            future.cancel()
            raise
    raise NoWriter(url)


def _submit(url: str, method: str, path: str, body: Any) -> concurrent.futures.Future[Any]:
    with _LOCK:
        writer = _WRITERS.get(url)
        if writer is None:
            raise NoWriter(url)
        coroutine = writer.call_first(method, path, body)
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, writer.loop)
        except RuntimeError:  # its loop has closed
            coroutine.close()
            raise NoWriter(url) from None
        writer.pending.add(future)
    future.add_done_callback(lambda done: _forget(writer, done))
    return future


def _forget(writer: _Writer, future: concurrent.futures.Future[Any]) -> None:
    with _LOCK:
        writer.pending.discard(future)
