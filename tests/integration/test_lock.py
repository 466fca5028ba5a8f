"""One apply at a time per project and environment: a lease (a Prefect variable) on the
real server; concurrent applies run as separate processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any

import httpx
import pytest

from flowfleet.cli.main import dispatch
from flowfleet.server.lock import lock_name
from tests.faults.figures import record
from tests.integration.conftest import Project, api, deployments_of

pytestmark = pytest.mark.xdist_group("servers")

DEPLOYMENTS = "deployments:\n" + "".join(
    f"  - name: d{i:02d}\n    entrypoint: flows/main.py:main\n" for i in range(12)
)
DECLARED = sorted(f"d{i:02d}" for i in range(12))


def lease(project: Project, *, expires_in: float, holder: str = "ci-run-7") -> dict[str, Any]:
    """A lease as another (maybe crashed) run would have left it."""
    url = project.servers.url("dev")
    expires = datetime.now(UTC) + timedelta(seconds=expires_in)
    value = {"holder": holder, "since": "2026-01-01T00:00:00+00:00", "expires": expires.isoformat()}
    body = {"name": lock_name(project.root.name, "dev"), "value": value}
    return api(url, "POST", "/variables/", body)  # type: ignore[no-any-return]


def lock_variable(project: Project) -> dict[str, Any] | None:
    name = lock_name(project.root.name, "dev")
    try:
        return api(project.servers.url("dev"), "GET", f"/variables/name/{name}")  # type: ignore[no-any-return]
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise


def names_on_server(project: Project) -> list[str]:
    return sorted(d["name"] for d in deployments_of(project.servers.url("dev"), project.flow))


def test_two_concurrent_applies_create_each_deployment_once(project: Project) -> None:
    config = project.write(DEPLOYMENTS)
    command = [sys.executable, "-m", "flowfleet.cli", "apply", "-f", str(config), "-e", "dev"]
    command += ["--yes"]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in runs]

    assert [p.returncode for p in runs] == [0, 0], outputs
    assert names_on_server(project) == DECLARED  # each exactly once, none lost
    # the run that got the lock second planned after the first had applied
    texts = [out for out, _ in outputs]
    assert sum("12 to create" in t for t in texts) == 1, texts
    assert (
        sum("No changes: 0 to create, 0 to update, 0 to delete, 12 unchanged" in t for t in texts)
        == 1
    )
    assert lock_variable(project) is None  # released
    found = names_on_server(project)
    record(
        "lock",
        {
            "concurrent_applies": len(runs),
            "declared": len(DECLARED),
            "duplicates": len(found) - len(set(found)),
            "missing": len(set(DECLARED) - set(found)),
        },
    )


def test_lock_timeout_zero_refuses_while_another_run_holds_it(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.write(DEPLOYMENTS)
    held = lease(project, expires_in=600)

    code = dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--lock-timeout", "0"])

    err = capsys.readouterr().err
    assert code == 1
    url = project.servers.url("dev")
    name = lock_name(project.root.name, "dev")
    assert (
        f"error: environment 'dev' ({url}) is locked by another flowfleet apply "
        "(held by ci-run-7 until " in err
    )
    assert f"variable '{name}'); nothing was changed." in err
    assert "raise --lock-timeout" in err
    assert "Traceback" not in err
    assert names_on_server(project) == []
    assert lock_variable(project)["id"] == held["id"]  # type: ignore[index]  # untouched
    api(url, "DELETE", f"/variables/{held['id']}")


def test_stale_lease_of_a_crashed_run_is_taken_over(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.write(DEPLOYMENTS)
    lease(project, expires_in=-30, holder="crashed-run")

    code = dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--lock-timeout", "0"])

    assert code == 0, capsys.readouterr().err
    assert names_on_server(project) == DECLARED
    assert lock_variable(project) is None


def test_apply_waits_for_the_lease_to_end(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other run ends (deletes its lease) once this one says it is waiting: the lease
    does not end on a clock, so the machine's load cannot decide whether it waited."""
    from flowfleet.server import lock

    config = project.write(DEPLOYMENTS)
    held = lease(project, expires_in=600, holder="slow-run")
    url = project.servers.url("dev")
    say = lock._stderr

    def say_then_other_run_ends(text: str) -> None:
        say(text)
        if text.startswith("waiting up to"):
            api(url, "DELETE", f"/variables/{held['id']}")

    monkeypatch.setattr(lock, "_stderr", say_then_other_run_ends)

    code = dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--lock-timeout", "60"])

    err = capsys.readouterr().err
    assert code == 0, err
    assert f"waiting up to 60 s for the lock on environment 'dev' ({url}): held by slow-run" in err
    assert names_on_server(project) == DECLARED
    assert lock_variable(project) is None


def test_plan_does_not_take_the_lock(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    config = project.write(DEPLOYMENTS)
    held = lease(project, expires_in=600)

    assert dispatch(["plan", "-f", str(config), "-e", "dev"]) == 0
    assert "12 to create" in capsys.readouterr().out
    assert lock_variable(project)["id"] == held["id"]  # type: ignore[index]
    api(project.servers.url("dev"), "DELETE", f"/variables/{held['id']}")


def test_negative_lock_timeout_is_a_user_error(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.write(DEPLOYMENTS)
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--lock-timeout", "-1"]) == 1
    assert "--lock-timeout must be 0 or more seconds, not -1" in capsys.readouterr().err
    assert names_on_server(project) == []


class LeaseClock:
    """Stands in for `datetime` in the lock module (which calls `now` and `fromisoformat`):
    the time leases are written and judged by, standing still until the test moves it."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self, tz: tzinfo | None = None) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    fromisoformat = staticmethod(datetime.fromisoformat)


def test_holder_renews_its_lease_while_it_works(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease's clock is moved past its end: only a renewal made after that keeps it.
    The test waits for that renewal (with a deadline), not for time to pass, so the
    machine's load cannot make it expire."""
    from flowfleet.model.target import Target
    from flowfleet.server import lock

    clock = LeaseClock()
    monkeypatch.setattr(lock, "datetime", clock)
    monkeypatch.setattr(lock, "LEASE_SECONDS", 2.0)
    monkeypatch.setattr(lock, "RENEW_EVERY", 0.2)
    renewals: list[datetime] = []  # the lease clock when each finished renewal started
    renewed = threading.Condition()
    renew = lock._renew

    async def noted_renew(lease: lock.Lease) -> None:
        started = clock.now()
        await renew(lease)
        with renewed:
            renewals.append(started)
            renewed.notify_all()

    monkeypatch.setattr(lock, "_renew", noted_renew)
    target = Target("dev", project.servers.url("dev"))
    name = lock_name(project.root.name, "dev")
    mine = lock.Lease(target, name, "flowfleet:test", "long-run")
    other = lock.Lease(target, name, "flowfleet:test", "other-run")

    with lock.holding([mine], timeout=0):
        taken = lock_variable(project)
        assert taken is not None
        clock.advance(5.0)  # well past the 2 s lease: stale unless renewed
        assert clock.now() > datetime.fromisoformat(taken["value"]["expires"])
        with renewed:
            assert renewed.wait_for(lambda: clock.now() in renewals, timeout=60), (
                "no renewal within 60 s"
            )
        with pytest.raises(lock.Locked, match="held by long-run"), lock.holding([other], 0):
            pass
    assert lock_variable(project) is None  # released at the end


def test_unchanged_apply_needs_no_lock(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project.write(DEPLOYMENTS)
    assert dispatch(["apply", "-f", str(config), "-e", "dev", "--yes"]) == 0
    held = lease(project, expires_in=600)
    capsys.readouterr()

    # Nothing to change: reads only, so another run's lease does not matter...
    code = dispatch(["apply", "-f", str(config), "-e", "dev", "--yes", "--lock-timeout", "0"])
    assert code == 0
    assert "No changes" in capsys.readouterr().out
    assert lock_variable(project)["id"] == held["id"]  # type: ignore[index]

    # ...while a change waits for it (here: refuses at once).
    changed = project.write(DEPLOYMENTS + "  - name: d12\n    entrypoint: flows/main.py:main\n")
    code = dispatch(["apply", "-f", str(changed), "-e", "dev", "--yes", "--lock-timeout", "0"])
    assert code == 1
    assert "is locked by another flowfleet apply" in capsys.readouterr().err
    assert names_on_server(project) == DECLARED
    api(project.servers.url("dev"), "DELETE", f"/variables/{held['id']}")


def test_a_plan_made_before_the_lock_stands_only_if_no_apply_wrote_since(
    project: Project,
) -> None:
    from flowfleet.model.target import Target
    from flowfleet.server import lock

    target = Target("dev", project.servers.url("dev"))
    name = lock_name(project.root.name, "dev")
    mine = [lock.Lease(target, name, "flowfleet:test", "me")]
    other = [lock.Lease(target, name, "flowfleet:test", "other")]

    seen = lock.seen_before_planning(mine)
    assert seen == [lock.Seen(held=False, generation=None)]
    assert not lock.written_since(mine, seen)  # nobody wrote: the plan stands

    with lock.holding(other, timeout=0):
        lock.mark_writing(other)  # another apply writes...
    assert lock.written_since(mine, seen)  # ...so the plan must be made again

    seen = lock.seen_before_planning(mine)
    assert seen[0].generation is not None and not lock.written_since(mine, seen)

    held = lease(project, expires_in=600)  # an apply is running while we plan
    seen = lock.seen_before_planning(mine)
    assert seen[0].held
    api(project.servers.url("dev"), "DELETE", f"/variables/{held['id']}")
    assert lock.written_since(mine, seen)  # it may have written after we read


def test_renewals_wait_their_turn_behind_the_writes_of_an_apply(project: Project) -> None:
    """A SQLite-backed server takes one writer: renewals sent beside an apply's writes
    were refused (503) again and again. They go through the apply's queue instead: no
    request overlaps another, none is refused, and the renewals land between the writes."""
    import asyncio
    import uuid

    from flowfleet.model.target import Target
    from flowfleet.server import lock, wire
    from flowfleet.server.api import connect
    from tests.faults.proxy import FaultPlan, FaultProxy

    upstream = project.servers.url("dev").removesuffix("/api")
    with FaultProxy(upstream, FaultPlan()) as proxy:
        target = Target("dev", proxy.url, local=True)  # a local server: one writer
        mine = lock.Lease(target, lock_name(project.root.name, "dev"), "flowfleet:t", "run")

        def renew_while_writing() -> None:
            for _ in range(4):
                asyncio.run(lock._renew(mine))

        async def write() -> None:
            async with connect(target) as api:
                prefix = uuid.uuid4().hex[:8]
                flows = [wire.FlowCreate(name=f"turn-{prefix}-{i}") for i in range(40)]
                writes = [asyncio.create_task(api.call("POST", "/flows/", f)) for f in flows]
                while not any(s.path == "/api/flows/" for s in proxy.log):
                    await asyncio.sleep(0.01)
                renewer = threading.Thread(target=renew_while_writing)
                renewer.start()
                await asyncio.gather(*writes)
                await asyncio.to_thread(renewer.join)

        with lock.holding([mine], timeout=0):
            asyncio.run(write())
        log = [s for s in proxy.log if s.method in ("POST", "PATCH") and "/filter" not in s.path]

    writes = [s for s in log if s.path == "/api/flows/"]
    renewals = [s for s in log if s.method == "PATCH" and s.path.startswith("/api/variables/")]
    assert len(writes) == 40 and len(renewals) == 4
    assert all(s.status in (200, 201, 204) for s in log), [(s.path, s.status) for s in log]
    ordered = sorted(log, key=lambda s: s.arrived)
    assert all(b.arrived >= a.answered for a, b in pairwise(ordered))
    last_write = max(s.arrived for s in writes)
    assert any(r.arrived < last_write for r in renewals)  # sent while the writes went on


def test_deployments_read_while_validating_are_read_again_if_an_apply_wrote_since(
    project: Project,
) -> None:
    """The early reads (flowfleet.server.early) keep the lock's order: the generation and
    the lock are read before the deployments, so an apply that writes after them is seen
    and the plan is made again under the lock."""
    from flowfleet._aio import run
    from flowfleet.apply.pipeline import apply_under_lock, plan_all
    from flowfleet.apply.prefetch import read_early_while_validating
    from flowfleet.model.target import Target
    from flowfleet.plan.change import Action
    from flowfleet.render.validate import load_and_validate
    from flowfleet.server import early, lock

    url = project.servers.url("dev")
    assert dispatch(["apply", "-f", str(project.write(DEPLOYMENTS)), "-e", "dev", "--yes"]) == 0
    config = project.write(DEPLOYMENTS + "  - name: d12\n    entrypoint: flows/main.py:main\n")
    on_loaded = read_early_while_validating(needs_seen=True)
    try:
        desired = load_and_validate([config], ["dev"], on_loaded=on_loaded)
        key = (url, f"flowfleet:{project.root.name}/dev")
        early._ENTRIES[key].future.result(timeout=60)  # read: d00-d11

        other = [lock.Lease(Target("dev", url), lock_name(project.root.name, "dev"), "", "b")]
        with lock.holding(other, timeout=0):  # another apply deletes d05 meanwhile
            lock.mark_writing(other)
            gone = next(d for d in deployments_of(url, project.flow) if d["name"] == "d05")
            api(url, "DELETE", f"/deployments/{gone['id']}")

        made: list[set[str]] = []

        def plan() -> list[Any]:
            plans = run(plan_all(desired, prune=False, adopt=False))
            made.append({c.key[1] for c in plans[0].plan.of(Action.CREATE)})
            return plans

        applied = apply_under_lock(desired, plan, lambda plans, _: plans, lock_timeout=10)
    finally:
        early.forget_all()
    assert made[0] == {"d12"}  # planned on the early read, made before d05 was deleted
    assert made[1:] == [{"d05", "d12"}]  # made again under the lock: it sees the deletion
    assert {c.key[1] for c in applied[0].plan.of(Action.CREATE)} == {"d05", "d12"}
