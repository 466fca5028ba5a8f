"""`run`: asyncio.run for a coroutine whose result is large (a plan, a render)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(coroutine), keeping its result out of the main task.

    On its way out, asyncio's Runner calls signal.getsignal(SIGINT), and Python 3.11's
    getsignal formats the Runner's own handler, a partial that holds the main task, whose
    repr shows the task's result in full: 0.2 s for the plan of 1,000 deployments, and
    growing with it."""
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]
