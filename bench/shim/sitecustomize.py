"""Loaded by `prefect deploy` in the benchmark only (PYTHONPATH=bench/shim).

Prefect 3.8.8's `prefect deploy` calls `read_workers_for_work_pool` with offset=None and
limit=None after each deployment; the 3.8.8 server answers 422, so the command stops
after the first deployment whenever the work pool exists. This sends offset=0 and
limit=200 instead, which the server takes, so that `prefect deploy --all` can be timed.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any


def _patch() -> None:
    from prefect.client.orchestration import PrefectClient

    original = PrefectClient.read_workers_for_work_pool

    @functools.wraps(original)
    async def read_workers(self: Any, name: str, worker_filter: Any = None, **kw: Any) -> Any:
        kw["offset"] = kw.get("offset") or 0
        kw["limit"] = kw.get("limit") or 200
        return await original(self, name, worker_filter, **kw)

    PrefectClient.read_workers_for_work_pool = read_workers  # type: ignore[method-assign]


with contextlib.suppress(ImportError):  # not a Prefect process: nothing to patch
    _patch()
