"""Block types: found on the server, or registered from an installed Prefect collection
(as `prefect block register -m prefect_aws` does) through the Api. The type's and
schema's bodies come from the installed Block class, which is imported only when a
config declares a block. Block documents read by type and name (`flowfleet import
--from-server`)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

from flowfleet.server import wire
from flowfleet.server.api import Api, ApiError


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
    """Register the type and schema of `slug` with the server, and those of the blocks
    nested in its fields first, as Prefect's `Block.register_type_and_schema` does; the
    bodies come from the installed Block class, the requests go through the Api like
    every other (its retries, its errors)."""
    cls = block_class(slug)
    assert cls is not None, slug
    await _register(api, cls, set())


async def _register(api: Api, cls: Any, seen: set[str]) -> None:
    slug = cls.get_block_type_slug()
    if slug in seen:
        return
    seen.add(slug)
    for nested in _nested_block_classes(cls):
        await _register(api, nested, seen)
    found = await _type(api, slug)
    if found is None:
        kind = cls._to_block_type().model_dump(mode="json", include=_TYPE_FIELDS)
        body = wire.BlockTypeCreate(**kind)
        found = await api.call("POST", "/block_types/", body, lookup=lambda: _type(api, slug))
    type_id = wire.BlockType.model_validate(found).id
    checksum, version = cls._calculate_schema_checksum(), cls.get_block_schema_version()
    try:
        await api.call("GET", f"/block_schemas/checksum/{quote(checksum)}?version={version}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        schema = cls._to_block_schema(block_type_id=type_id).model_dump(
            mode="json", include=_SCHEMA_FIELDS
        )
        # safe to repeat: the server answers a schema it has (checksum, version) with it
        await api.call("POST", "/block_schemas/", wire.BlockSchemaCreate(**schema))


async def _type(api: Api, slug: str) -> Any:
    """The block type `slug` as the server has it, or None (also the look-up of a type
    created again after a lost answer: the slug is unique)."""
    try:
        return await api.call("GET", f"/block_types/slug/{quote(slug)}")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return None


_TYPE_FIELDS = {"name", "slug", "logo_url", "documentation_url", "description", "code_example"}
_SCHEMA_FIELDS = {"fields", "block_type_id", "capabilities", "version"}


def _nested_block_classes(cls: Any) -> list[Any]:
    """The Block classes named in `cls`'s field annotations (also inside Optional, lists)."""
    from typing import get_args

    from prefect.blocks.core import Block

    found: list[Any] = []
    pending = [f.annotation for f in cls.model_fields.values() if f.annotation is not None]
    while pending:
        annotation = pending.pop()
        if Block.is_block_class(annotation):
            found.append(annotation)
        else:
            pending.extend(get_args(annotation))
    return found


async def block_type_ids(api: Api, slug: str) -> tuple[str, str]:
    """(block type id, id of its newest schema)."""
    found = await api.call("GET", f"/block_types/slug/{quote(slug)}")
    type_id = wire.BlockType.model_validate(found).id
    body = wire.BlockSchemasFilter(
        block_schemas=wire.BlockSchemaFilter(block_type_id=wire.AnyOf(any_=[type_id])), limit=1
    )
    schemas = await api.call("POST", "/block_schemas/filter", body)
    return type_id, wire.BlockSchema.model_validate(schemas[0]).id


async def read_block_document(api: Api, slug: str, name: str) -> wire.BlockDocument | None:
    """The block document `name` of type `slug` (its secrets obfuscated, as the server
    answers without `include_secrets`), or None when the server has none."""
    path = f"/block_types/slug/{quote(slug, safe='')}/block_documents/name/{quote(name, safe='')}"
    try:
        found = await api.call("GET", path)
    except ApiError as exc:
        if exc.status != 404:
            raise
        return None
    return wire.BlockDocument.model_validate(found)


async def block_types_named(api: Api, name: str) -> list[str]:
    """The types of the block documents called `name`, sorted (a name is unique per type)."""
    body = wire.BlockDocumentsFilter(
        block_documents=wire.BlockDocumentFilter(name=wire.AnyOf(any_=[name]))
    )
    found = await api.read_all("/block_documents/filter", body, wire.BlockDocument)
    return sorted({d.block_type.slug for d in found if d.block_type is not None})
