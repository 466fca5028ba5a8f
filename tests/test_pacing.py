"""The adaptive concurrency limit and the writer's queue (pure logic: an
httpx.MockTransport stands in for the server; what a real server sees is tested in
tests/integration/test_lock.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flowfleet.model.target import Target
from flowfleet.server.api import connect
from flowfleet.server.pacing import AdaptiveLimit
from flowfleet.server.turns import NoWriter, send_in_turn


async def _queued(
    limit: AdaptiveLimit, names: list[str], order: list[str]
) -> list[asyncio.Task[None]]:
    """Tasks that each take a slot, note their name and hold it for one turn of the event
    loop; queued in the order of `names` ("!name": ahead of the others)."""

    async def take(name: str, first: bool) -> None:
        async with limit.slot(first=first):
            order.append(name)
            await asyncio.sleep(0)

    tasks = []
    for name in names:
        tasks.append(asyncio.create_task(take(name.lstrip("!"), name.startswith("!"))))
        await asyncio.sleep(0)  # queued before the next one
    return tasks


def test_waiting_requests_get_their_turn_in_order_and_first_goes_ahead() -> None:
    async def go() -> list[str]:
        limit = AdaptiveLimit(1, 1)
        order: list[str] = []
        async with limit.slot():  # the request in flight
            tasks = await _queued(limit, ["a", "b", "c", "!renewal", "d"], order)
            assert order == []  # nobody passes the one in flight
        await asyncio.gather(*tasks)
        assert limit.in_flight == 0
        return order

    assert asyncio.run(go()) == ["renewal", "a", "b", "c", "d"]


def test_a_cancelled_waiter_leaves_no_slot_taken() -> None:
    async def go() -> tuple[list[str], int]:
        limit = AdaptiveLimit(1, 1)
        order: list[str] = []
        async with limit.slot():
            a, b = await _queued(limit, ["a", "b"], order)
            a.cancel()
            await asyncio.sleep(0)
        await b
        with pytest.raises(asyncio.CancelledError):
            await a
        return order, limit.in_flight

    assert asyncio.run(go()) == (["b"], 0)


def _limits_after(limit: AdaptiveLimit, successes: int) -> list[int]:
    seen = []
    for _ in range(successes):
        limit.succeeded()
        seen.append(limit.limit)
    return seen


def test_the_limit_grows_by_one_and_never_back_to_where_the_server_pushed_back() -> None:
    limit = AdaptiveLimit(1, 16)
    assert _limits_after(limit, 12) == [1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4]
    assert _limits_after(limit, 500)[-1] == 16
    limit.pushed_back()
    assert (limit.limit, limit.maximum) == (8, 15)
    assert max(_limits_after(limit, 500)) == 15


def _answered(limit: AdaptiveLimit, seconds: Callable[[int], float], count: int) -> list[int]:
    """The limit after each of `count` answers taking `seconds(limit)`."""
    seen = []
    for _ in range(count):
        limit.succeeded("POST /deployments/", seconds(limit.limit))
        seen.append(limit.limit)
    return seen


def test_the_limit_stops_growing_where_requests_queue_in_a_busy_server() -> None:
    """One busy server process answers n requests at once in n times the time of one:
    more at once only queues them. A distant server with time to spare answers each
    in the same time however many are sent."""
    busy = _answered(AdaptiveLimit(1, 16), lambda n: 0.03 * n, 1000)
    assert max(busy) == busy[-1] == 3  # 2 at once: 1 waiting; 3 at once: 2 waiting
    idle = _answered(AdaptiveLimit(1, 16), lambda n: 0.1, 1000)
    assert idle[-1] == 16


def test_one_push_back_at_two_keeps_a_sqlite_server_at_one_writer() -> None:
    limit = AdaptiveLimit(1, 16)
    _limits_after(limit, 2)
    assert limit.limit == 2  # the probe: two writes at once
    limit.pushed_back()
    assert set(_limits_after(limit, 1000)) == {1}


def test_a_request_from_another_thread_is_sent_next_by_the_writer() -> None:
    """An Api with one request in flight and three waiting: a request sent in turn from
    another thread goes out right after the one in flight."""
    sent: list[str] = []
    release = asyncio.Event()
    answers: dict[str, Any] = {}

    async def server(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            await release.wait()
        return httpx.Response(200, json={"path": request.url.path})

    def renew(url: str) -> None:
        answers["renewal"] = asyncio.run(send_in_turn(url, "PATCH", "/renewal", None, 30))

    async def go() -> None:
        target = Target("dev", "http://prefect.test/api", local=True)  # one at a time
        async with connect(target, transport=httpx.MockTransport(server)) as api:
            writes = [asyncio.create_task(api.call("POST", f"/w{i}")) for i in range(4)]
            while not sent or api.limit.waiting < 3:
                await asyncio.sleep(0.01)
            thread = threading.Thread(target=renew, args=(target.url,))
            thread.start()
            while api.limit.waiting < 4:
                await asyncio.sleep(0.01)
            release.set()
            await asyncio.gather(*writes)
            await asyncio.to_thread(thread.join)

    asyncio.run(go())
    assert sent == ["/api/w0", "/api/renewal", "/api/w1", "/api/w2", "/api/w3"]
    assert answers["renewal"] == {"path": "/api/renewal"}


def test_without_a_writer_a_request_in_turn_is_not_sent() -> None:
    with pytest.raises(NoWriter):
        asyncio.run(send_in_turn("http://nobody.test/api", "PATCH", "/x", None, 1))


def test_a_request_in_turn_is_let_go_when_its_writer_closes_first() -> None:
    """The apply's Api closes with a renewal still waiting in its queue: the renewal is
    told at once (NoWriter: it then goes on a connection of its own), not left waiting."""
    raised: list[BaseException] = []
    release = asyncio.Event()

    async def server(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    def renew(url: str) -> None:
        try:
            asyncio.run(send_in_turn(url, "PATCH", "/renewal", None, 3600))
        except NoWriter as exc:
            raised.append(exc)

    async def go() -> threading.Thread:
        target = Target("dev", "http://prefect.test/api", local=True)
        async with connect(target, transport=httpx.MockTransport(server)) as api:
            write = asyncio.create_task(api.call("POST", "/w"))
            while api.limit.in_flight == 0:
                await asyncio.sleep(0.01)
            thread = threading.Thread(target=renew, args=(target.url,))
            thread.start()
            while api.limit.waiting == 0:
                await asyncio.sleep(0.01)
            write.cancel()
        return thread

    thread = asyncio.run(go())
    thread.join(60)  # a guard against hanging, not a timing
    assert not thread.is_alive() and len(raised) == 1
