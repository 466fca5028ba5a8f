"""How flowfleet's HTTP client waits and backs off (pure logic: an httpx.MockTransport
stands in for the server; what reaches a real server is tested in tests/integration/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flowfleet.model.target import Target
from flowfleet.server import api as api_module
from flowfleet.server.api import NotAttempted, connect
from flowfleet.server.pacing import AdaptiveLimit, deadline_in

Handler = Callable[[httpx.Request], httpx.Response]


def _answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """Answer the requests with `responses` in turn, then 200 `{}`."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[len(seen) - 1] if len(seen) <= len(responses) else httpx.Response(200)

    return handle, seen


def _call(
    handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[float], AdaptiveLimit, Any]:
    """One GET through the Api; the waits it slept and its concurrency limit after."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(api_module.asyncio, "sleep", sleep)

    async def go() -> tuple[AdaptiveLimit, Any]:
        target = Target("dev", "http://prefect.test/api")
        async with connect(target, transport=httpx.MockTransport(handler)) as api:
            answer = await api.call("GET", "/x")
            return api.limit, answer

    limit, answer = asyncio.run(go())
    return waits, limit, answer


def test_retry_after_zero_retries_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    handler, seen = _answers(httpx.Response(503, headers={"Retry-After": "0"}))
    waits, _, _ = _call(handler, monkeypatch)
    assert waits == [0.0] and len(seen) == 2


def test_only_the_servers_back_pressure_lowers_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    for status in (500, 502, 504):
        handler, _ = _answers(httpx.Response(status))
        waits, limit, _ = _call(handler, monkeypatch)
        assert limit.maximum == 16 and len(waits) == 1, status  # retried, may still grow
    for response in (
        httpx.Response(503),
        httpx.Response(429),
        httpx.Response(500, headers={"Retry-After": "1"}),
    ):
        handler, _ = _answers(response)
        _, limit, _ = _call(handler, monkeypatch)
        assert (limit.limit, limit.maximum) == (1, 1), response  # one at a time, for good


def test_a_slow_answer_is_retried_and_does_not_mark_the_server_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0

    def slow_once(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("no answer in time", request=request)
        return httpx.Response(200, json={"ok": True})

    waits, limit, answer = _call(slow_once, monkeypatch)
    assert answer == {"ok": True} and len(waits) == 1 and limit.maximum == 16


def test_a_request_after_the_deadline_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    handler, seen = _answers()

    async def go() -> None:
        target = Target("dev", "http://prefect.test/api")
        with deadline_in(0.0):
            async with connect(target, transport=httpx.MockTransport(handler)) as api:
                await api.call("POST", "/variables/")

    with pytest.raises(NotAttempted, match=r"the deadline of 0 s \(--timeout\) was reached"):
        asyncio.run(go())
    assert seen == []


def test_a_lost_answer_is_looked_up_before_the_write_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The write reached the server, the connection dropped: the look-up finds it, and
    it is not sent a second time."""
    writes: list[httpx.Request] = []

    def dropped(request: httpx.Request) -> httpx.Response:
        writes.append(request)
        raise httpx.RemoteProtocolError("Server disconnected", request=request)

    async def lookup() -> dict[str, str]:
        return {"id": "made-by-the-first-attempt"}

    async def go() -> Any:
        target = Target("dev", "http://prefect.test/api")
        async with connect(target, transport=httpx.MockTransport(dropped)) as api:
            return await api.call("POST", "/work_pools/", lookup=lookup)

    assert asyncio.run(go()) == {"id": "made-by-the-first-attempt"}
    assert len(writes) == 1
