"""One apply at a time per project and environment: a lease held on the server.

The lease is a Prefect variable `flowfleet_lock__<project>__<environment>` whose value
says who holds it and until when. It is taken with `POST /variables/`: the server keeps
variable names unique, so of two runs that try at once exactly one creates it and the
other is refused (409) — there is no window between "check" and "take". A lease whose
expiry has passed (its run crashed or was killed) is taken over by deleting that variable
*by id* and creating it again: if two runs see the same stale lease, only one of them
deletes it; the other's delete finds nothing (or a newer lease with a new id it does not
touch) and its create is refused. The holder renews the lease in the background while it
plans and applies, and deletes it when done.

Answers can be lost after the server acted. A lease found on the server is this run's own
when its holder is this run's holder (which carries a random part): a create retried
after a lost answer, refused with 409, then takes the lease it made instead of waiting
for itself. Renewals (PATCH by id) and the release (a DELETE that finds nothing is done)
are safe to repeat; so are the generation's writes (see `_set_generation`).

Expiry times are written by the holder's clock and read by the waiter's: clocks must
agree to within the lease time (60 s), which any NTP-synchronised CI runner does.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server import wire
from flowfleet.server.api import ApiError, NotAttempted, connect
from flowfleet.server.early import Seen, take_seen
from flowfleet.server.pacing import deadline_in
from flowfleet.server.turns import NoWriter, send_in_turn
from flowfleet.server.variables import variable_name

LEASE_SECONDS = 60.0
RENEW_EVERY = 15.0
POLL_SECONDS = 1.0
DEFAULT_TIMEOUT = 300.0
RELEASE_SECONDS = 10.0  # releasing is not bound by the command's deadline, but by this


class Locked(FlowfleetError):
    """Another run holds an environment's lock beyond --lock-timeout."""


@dataclass
class Lease:
    """One environment's lock, as taken by this run."""

    target: Target
    name: str
    marker: str
    holder: str
    variable_id: str = ""
    since: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def lock_name(project: str, environment: str) -> str:
    """`flowfleet_lock__<project>__<environment>` (variable names: letters, digits, -, _)."""
    return variable_name("flowfleet_lock", project, environment)


def holder_id() -> str:
    """Who this run is, for the message a waiting run shows."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()} ({uuid.uuid4().hex[:8]})"


@contextmanager
def holding(
    leases: Sequence[Lease], timeout: float, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold every lease (taken in a fixed order, so two runs never deadlock) for the
    duration of the block, renewing them in the background; release them at the end.
    `notify` gets what the user should know while waiting (default: stderr)."""
    say = notify or _stderr
    taken: list[Lease] = []
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(taken, stop, say), daemon=True)
    try:
        for lease in sorted(leases, key=lambda item: (item.target.url, item.name)):
            _acquire(lease, timeout, say)
            taken.append(lease)
        renewer.start()
        yield
    finally:
        stop.set()
        if renewer.is_alive():
            renewer.join()
        for lease in reversed(taken):
            _release_or_warn(lease, say)


def _release_or_warn(lease: Lease, say: Callable[[str], None]) -> None:
    """Release one lease, even after the command's deadline (within RELEASE_SECONDS); a
    server that is gone keeps it until it expires, and the other leases are released."""
    try:
        with deadline_in(RELEASE_SECONDS):
            asyncio.run(_release(lease))
    except FlowfleetError as exc:
        say(
            f"warning: could not release the lock '{lease.name}' on environment "
            f"'{lease.target.environment}' ({exc}); it expires by itself within "
            f"{LEASE_SECONDS:.0f} s"
        )


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")


def _acquire(lease: Lease, timeout: float, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        held = asyncio.run(_try_take(lease))
        if held is None:
            return
        where = f"environment '{lease.target.environment}' ({lease.target.url})"
        who = f"held by {held.get('holder', '?')} until {held.get('expires', '?')}"
        if time.monotonic() >= deadline:
            raise Locked(
                f"{where} is locked by another flowfleet apply ({who}; variable "
                f"'{lease.name}'); nothing was changed. Wait for it to finish and run again, "
                "or raise --lock-timeout; a lease of a run that died expires by itself"
            )
        if not announced:
            say(f"waiting up to {timeout:.0f} s for the lock on {where}: {who}")
            announced = True
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


async def _try_take(lease: Lease) -> dict[str, Any] | None:
    """None once taken; else the value of the live lease that someone else holds."""
    async with connect(lease.target) as api:

        async def own_lease() -> dict[str, Any] | None:
            found = await _find(api, lease.name)
            return found.model_dump() if found is not None and _holds(lease, found) else None

        for _ in range(5):
            body = wire.VariableCreate(name=lease.name, value=_value(lease), tags=[lease.marker])
            try:
                created = await api.call("POST", "/variables/", body, lookup=own_lease)
            except ApiError as exc:
                if exc.status != 409:
                    raise
            else:
                lease.variable_id = wire.Variable.model_validate(created).id
                return None
            current = await _find(api, lease.name)
            if current is None:
                continue  # released in between: try again
            if _holds(lease, current):  # our own create, whose answer was lost
                lease.variable_id = current.id
                return None
            value = current.value if isinstance(current.value, dict) else {}
            if not _expired(value):
                return value
            await _delete(api, current.id)  # stale: by id, so only that lease goes
        return {"holder": "(runs that keep taking it)", "expires": "?"}


async def _find(api: Any, name: str) -> wire.Variable | None:
    try:
        found = await api.call("GET", f"/variables/name/{name}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return wire.Variable.model_validate(found)


def _holds(lease: Lease, variable: wire.Variable) -> bool:
    value = variable.value if isinstance(variable.value, dict) else {}
    return value.get("holder") == lease.holder


def _renew_until(leases: list[Lease], stop: threading.Event, say: Callable[[str], None]) -> None:
    while not stop.wait(RENEW_EVERY):
        for lease in list(leases):
            try:
                asyncio.run(_renew(lease))
            except FlowfleetError as exc:  # keep applying; the lease may still be valid
                say(f"warning: could not renew the lock '{lease.name}': {exc}")


async def _renew(lease: Lease) -> None:
    """Through the apply's own Api when one is writing to that server (its turn comes
    next; sent beside the apply's writes, a SQLite-backed server refuses one of the
    two), else on a connection of its own."""
    body = wire.VariableUpdate(value=_value(lease))
    path = f"/variables/{lease.variable_id}"
    try:
        await send_in_turn(lease.target.url, "PATCH", path, body, timeout=RENEW_EVERY)
    except (NoWriter, NotAttempted):  # no apply writing, or it stopped sending
        async with connect(lease.target) as api:
            await api.call("PATCH", path, body)


async def _release(lease: Lease) -> None:
    async with connect(lease.target) as api:
        await _delete(api, lease.variable_id)


async def _delete(api: Any, variable_id: str) -> None:
    try:
        await api.call("DELETE", f"/variables/{variable_id}")
    except ApiError as exc:
        if exc.status != 404:
            raise


def _value(lease: Lease) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "holder": lease.holder,
        "since": lease.since,
        "expires": (now + timedelta(seconds=LEASE_SECONDS)).isoformat(timespec="milliseconds"),
    }


def _expired(value: dict[str, Any]) -> bool:
    try:
        expires = datetime.fromisoformat(str(value.get("expires")))
    except ValueError:
        return True  # not a lease flowfleet wrote: treat as stale
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return expires <= datetime.now(UTC)


# Planning before the lock. An apply plans without the lock first (an unchanged apply
# then never writes), and must not apply that plan if another apply wrote in between.
# Every apply that writes first sets the environment's *generation* variable
# (`flowfleet_generation__<project>__<env>`) to a fresh token, under the lock. Before
# planning, a run notes the generation and whether the lock is held; once it holds the
# lock, the plan stands only if the lock was free then and the generation is the same:
# any apply that wrote after that moment (or was writing then) changed one or the other.


def generation_name(lease: Lease) -> str:
    return lease.name.replace("flowfleet_lock__", "flowfleet_generation__", 1)


def seen_before_planning(leases: Sequence[Lease]) -> list[Seen]:
    """The generation first, then the lock (this order matters: see above); as read
    early (flowfleet.server.early) where that read succeeded."""
    return [
        take_seen((lease.target.url, lease.marker)) or asyncio.run(read_seen(lease))
        for lease in leases
    ]


def written_since(leases: Sequence[Lease], seen: Sequence[Seen]) -> bool:
    """With the locks held: did another apply write since `seen` (or was it writing)?"""
    return any(
        before.held or asyncio.run(_generation(lease)) != before.generation
        for lease, before in zip(leases, seen, strict=True)
    )


def mark_writing(leases: Sequence[Lease]) -> None:
    """With the locks held, before the first write: a new generation for each."""
    for lease in leases:
        asyncio.run(_set_generation(lease, uuid.uuid4().hex))


async def read_seen(lease: Lease) -> Seen:
    """Whether another run holds the lock, and the generation (read first)."""
    generation = await _generation(lease)
    async with connect(lease.target) as api:
        try:
            await api.call("GET", f"/variables/name/{lease.name}")
        except ApiError as exc:
            if exc.status != 404:
                raise
            return Seen(held=False, generation=generation)
    return Seen(held=True, generation=generation)


async def _generation(lease: Lease) -> str | None:
    async with connect(lease.target) as api:
        try:
            variable = await api.call("GET", f"/variables/name/{generation_name(lease)}")
        except ApiError as exc:
            if exc.status != 404:
                raise
            return None
    return str(wire.Variable.model_validate(variable).value)


async def _set_generation(lease: Lease, token: str) -> None:
    """Replace the generation, or create it: a create retried after a lost answer that
    finds the generation with this very token made it."""
    name = generation_name(lease)
    async with connect(lease.target) as api:
        try:
            await api.call("PATCH", f"/variables/name/{name}", wire.VariableUpdate(value=token))
        except ApiError as exc:
            if exc.status != 404:
                raise

            async def made() -> dict[str, Any] | None:
                found = await _find(api, name)
                return found.model_dump() if found is not None and found.value == token else None

            body = wire.VariableCreate(name=name, value=token, tags=[lease.marker])
            await api.call("POST", "/variables/", body, lookup=made)
