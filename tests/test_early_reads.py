"""flowfleet.server.early: the reads started while a config is validated are a head start,
taken at most once, never a source of errors, and (for an apply) never used without the
lock's state read before them. Pure logic: the reads are stand-in coroutines."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest

from flowfleet.server import early

KEY = ("http://server/api", "flowfleet:p/dev")


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    early.forget_all()
    yield
    early.forget_all()


def _read(generation: str = "g0", fail: bool = False) -> Callable[[], Awaitable[early.EarlyRead]]:
    async def read() -> early.EarlyRead:
        if fail:
            raise RuntimeError("server down")
        return early.EarlyRead(early.Seen(False, generation), "3.9.1", [])

    return read


def _take(timeout: float = 5.0) -> early.EarlyRead | None:
    return asyncio.run(early.take_deployments(KEY, timeout))


def test_a_plan_takes_the_deployments_once() -> None:
    early.start({KEY: _read()}, needs_seen=False)
    taken = _take()
    assert taken is not None and taken.version == "3.9.1"
    assert _take() is None  # a second plan (e.g. under the lock) reads afresh


def test_an_apply_takes_the_deployments_only_after_the_lock_state_read_before_them() -> None:
    early.start({KEY: _read()}, needs_seen=True)
    assert _take() is None  # the lock's state was not taken from this read: not safe
    early.start({KEY: _read(generation="g1")}, needs_seen=True)
    assert early.take_seen(KEY, 5.0) == early.Seen(False, "g1")
    taken = _take()
    assert taken is not None and taken.seen == early.Seen(False, "g1")


def test_a_failed_read_is_read_again_the_usual_way() -> None:
    early.start({KEY: _read(fail=True)}, needs_seen=True)
    assert early.take_seen(KEY, 5.0) is None
    assert _take() is None


def test_an_unfinished_read_is_not_waited_for_past_the_deadline() -> None:
    release = threading.Event()

    async def slow() -> early.EarlyRead:
        while not release.is_set():
            await asyncio.sleep(0.01)
        return early.EarlyRead(early.Seen(False, None), None, [])

    early.start({KEY: slow}, needs_seen=False)
    try:
        assert _take(timeout=0.05) is None
    finally:
        release.set()


def test_reads_not_taken_are_dropped_when_the_command_ends() -> None:
    early.start({KEY: _read()}, needs_seen=False)
    early.forget_all()
    assert _take() is None


def test_a_new_command_replaces_the_reads_of_an_earlier_one() -> None:
    early.start({KEY: _read(generation="old")}, needs_seen=True)
    early.start({KEY: _read(generation="new")}, needs_seen=True)
    assert early.take_seen(KEY, 5.0) == early.Seen(False, "new")


def test_an_unreachable_server_is_reported_at_once_not_reached_again() -> None:
    from flowfleet.server.connection import ConnectionError_

    async def unreachable() -> early.EarlyRead:
        raise ConnectionError_("environment 'dev': cannot reach http://server/api")

    early.start({KEY: unreachable}, needs_seen=True)
    with pytest.raises(ConnectionError_, match="cannot reach"):
        early.take_seen(KEY, 5.0)
    early.start({KEY: unreachable}, needs_seen=False)
    with pytest.raises(ConnectionError_, match="cannot reach"):
        _take()


def test_the_reads_run_under_the_commands_deadline() -> None:
    from flowfleet.server.pacing import CURRENT_DEADLINE, deadline_in

    async def read() -> early.EarlyRead:
        deadline = CURRENT_DEADLINE.get()
        seconds = None if deadline is None else str(deadline.seconds)
        return early.EarlyRead(early.Seen(False, None), seconds, [])

    with deadline_in(42.0):
        early.start({KEY: read}, needs_seen=False)
    taken = _take()
    assert taken is not None and taken.version == "42.0"
