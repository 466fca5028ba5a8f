"""ECS infrastructure blocks read from a server (`flowfleet import --from-server`): for each
environment whose file says `ib-block: ecs-task/NAME`, the block document of type
`ecs-task` called NAME on that environment's server (Prefect 2, or Prefect 3 / Cloud).

Its fields are the block's data as stored; they go through the same translation to an
`ecs` work pool as a block file's (`ecs_pool`). A block the server does not have, one of
another type, or a server that does not answer is an error naming the environment, the
server and the block: nothing is converted from a guess. Secrets are never asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.interop.legacy.ecs_pool import OnServer, Where
from flowfleet.interop.legacy.files import LegacySource
from flowfleet.interop.legacy.pools import Fields
from flowfleet.model.target import Target
from flowfleet.server import wire
from flowfleet.server.api import connect
from flowfleet.server.blocks import block_types_named, read_block_document

ECS_TASK = "ecs-task"


def block_fields(document: wire.BlockDocument, where: Where) -> dict[str, tuple[Any, Where]]:
    """The block's fields as stored, each at `where`. A field that refers to a saved block
    (`aws_credentials` = `AwsCredentials.load("name")`) becomes that block's placeholder,
    `{{ prefect.blocks.<type>.<name> }}`; an anonymous one (`AwsCredentials(...)` saved
    with the block) stays inline, as the server returns it."""
    fields = {k: (v, where) for k, v in (document.data or {}).items()}
    for name, reference in (document.block_document_references or {}).items():
        referred = reference.get("block_document") if isinstance(reference, dict) else None
        if not isinstance(referred, dict) or referred.get("is_anonymous", True):
            continue
        slug = (referred.get("block_type") or {}).get("slug")
        if name in fields and slug and referred.get("name"):
            fields[name] = (f"{{{{ prefect.blocks.{slug}.{referred['name']} }}}}", where)
    return fields


def wanted_blocks(sources: Sequence[LegacySource]) -> dict[str, str]:
    """Environment → the name of the ecs-task block its file's `ib-block` names."""
    wanted = {}
    for source in sources:
        kind, _, name = (source.ib_block or "").partition("/")
        if kind == ECS_TASK and name:
            wanted[source.environment] = name
    return wanted


async def read_server_blocks(
    sources: Sequence[LegacySource], targets: Mapping[str, Target]
) -> dict[str, dict[str, Fields]]:
    """Environment → {block name: fields} for every environment of `wanted_blocks`, each
    read from its server in `targets`; the first problem raises (nothing is written)."""
    found: dict[str, dict[str, Fields]] = {}
    for source in sources:
        name = wanted_blocks([source]).get(source.environment)
        if name is not None:
            target = targets[source.environment]
            document = await _read(source, target, name)
            place = OnServer(source.environment, target.url)
            found[source.environment] = {name: block_fields(document, place)}
    return found


async def _read(source: LegacySource, target: Target, name: str) -> wire.BlockDocument:
    named = f"({source.ib_block_location()}: ib-block: {ECS_TASK}/{name})"
    try:
        async with connect(target) as api:
            document = await read_block_document(api, ECS_TASK, name)
            others = [] if document is not None else await block_types_named(api, name)
    except FlowfleetError as exc:
        raise FlowfleetError(
            f"{exc}; the block {ECS_TASK}/{name} {named} was not read, nothing was written"
        ) from None
    if document is not None:
        return document
    where = f"environment '{source.environment}' ({target.url})"
    found = (
        f", only a block of type {', '.join(repr(t) for t in others)} by that name"
        if others
        else ""
    )
    raise FlowfleetError(
        f"{where}: the server has no {ECS_TASK} block named '{name}' {named}{found}; check "
        f"that it is this environment's server (--from-server {source.environment}=URL) "
        "and that the block is saved there, or leave out --from-server to read the block "
        "from the Python file that saves it"
    )
