"""Block types: found on the server, or registered from an installed Prefect collection
(as `prefect block register -m prefect_aws` does)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

from flowfleet.server import wire
from flowfleet.server.api import Api


@cache
def block_class(slug: str) -> Any:
    """The Block subclass for `slug` from Prefect or an installed collection, or None."""
    from prefect.blocks.core import Block
    from prefect.plugins import load_prefect_collections
    from prefect.utilities.dispatch import lookup_type

    load_prefect_collections()
    try:
        return lookup_type(Block, slug)
    except KeyError:
        return None


async def register_block_type(api: Api, slug: str) -> None:
    """Register the type and schema of `slug` with the server through Prefect's client."""
    from prefect.client.orchestration import PrefectClient

    cls = block_class(slug)
    assert cls is not None, slug
    async with PrefectClient(api.target.url, api_key=api.target.api_key) as client:
        await cls.register_type_and_schema(client=client)


async def block_type_ids(api: Api, slug: str) -> tuple[str, str]:
    """(block type id, id of its newest schema)."""
    found = await api.call("GET", f"/block_types/slug/{quote(slug)}")
    type_id = wire.BlockType.model_validate(found).id
    body = wire.BlockSchemasFilter(
        block_schemas=wire.BlockSchemaFilter(block_type_id=wire.AnyOf(any_=[type_id])), limit=1
    )
    schemas = await api.call("POST", "/block_schemas/filter", body)
    return type_id, wire.BlockSchema.model_validate(schemas[0]).id
