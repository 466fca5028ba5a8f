"""Start reading each environment's server as soon as its config is loaded, while it is
validated (see flowfleet.server.early)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from flowfleet.config.load import LoadedConfig
from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.plan.deployments import ownership_marker
from flowfleet.server import early
from flowfleet.server.api import connect
from flowfleet.server.connection import resolve_target
from flowfleet.server.lock import Lease, lock_name, read_seen
from flowfleet.server.read import read_early


def read_early_while_validating(
    *, needs_seen: bool
) -> Callable[[LoadedConfig, Sequence[str]], None]:
    """What load_and_validate calls with each loaded config (`on_loaded`): the early reads
    of the environments it will plan. `needs_seen`: for an apply (see early)."""

    def on_loaded(loaded: LoadedConfig, selected: Sequence[str]) -> None:
        project = loaded.config.project
        assert project is not None  # the loader always sets it
        reads = {}
        for name in selected or list(loaded.config.environments):
            environment = loaded.config.environments.get(name)
            if environment is None:  # an unknown --env: validation reports it
                continue
            try:  # a local server is not started here, nor is an error reported
                target = resolve_target(loaded.root, name, environment, start_local=False)
            except FlowfleetError:
                continue
            marker = ownership_marker(project, name)
            lease = Lease(target, lock_name(project, name), marker, holder="")
            reads[(target.url, marker)] = _reader(target, lease, marker)
        early.start(reads, needs_seen=needs_seen)

    return on_loaded


def _reader(target: Target, lease: Lease, marker: str) -> Callable[[], Awaitable[early.EarlyRead]]:
    async def read() -> early.EarlyRead:
        seen = await read_seen(lease)  # first: see flowfleet.server.lock
        async with connect(target) as api:
            version, owned = await read_early(api, marker)
        return early.EarlyRead(seen, version, owned)

    return read
