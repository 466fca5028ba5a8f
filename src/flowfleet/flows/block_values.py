"""Block document references in run parameters, and the server's view of block-typed
parameters: what Prefect loads when a run starts (Block.load_from_ref) and the schema the
server checks parameters against (Prefect's preprocess_schema)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flowfleet.flows.blocks import BlockReference
from flowfleet.flows.types import Flow


def block_references(
    flow: Flow, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str | None, str]]:
    """The values with each `{"$ref": ...}` replaced by the block document it names, as
    Flow.validate_parameters does (Block.load_from_ref, for any parameter, at any depth),
    and the parameters whose reference Prefect cannot load whatever the server holds."""
    errors: dict[str | None, str] = {}

    def resolved(name: str, value: Any) -> Any:
        if isinstance(value, dict) and "$ref" in value:
            if not _loadable(value["$ref"]):
                errors.setdefault(name, _bad_reference(flow, name, value))
            return BlockReference(value["$ref"])
        if isinstance(value, dict):
            return {key: resolved(name, item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolved(name, item) for item in value]
        return value

    replaced = {name: resolved(name, value) for name, value in values.items()}
    return replaced, errors


def _loadable(ref: Any) -> bool:
    """Whether Block.load_from_ref accepts the form of `ref`: a block document id (a UUID),
    `{"block_document_id": UUID}` or `{"block_document_slug": "TYPE/NAME"}` (loaded through
    the base Block class, the slug needs its block type)."""
    if isinstance(ref, dict):
        if ref.get("block_document_id"):
            return _is_uuid(ref["block_document_id"])
        slug = ref.get("block_document_slug")
        if slug:
            kind, _, name = slug.partition("/") if isinstance(slug, str) else ("", "", "")
            return bool(kind and name)
        return False
    return isinstance(ref, str) and _is_uuid(ref)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return isinstance(value, str)


def _bad_reference(flow: Flow, name: str, value: dict[str, Any]) -> str:
    shown = json.dumps(value, default=str)
    return (
        f"parameter {name!r} of flow {flow.name!r}: {shown} is not a block document reference"
        " Prefect can load when the run starts; write"
        ' {"$ref": {"block_document_slug": "BLOCK-TYPE/NAME"}} (e.g. "secret/db-password")'
        ' or {"$ref": {"block_document_id": "UUID"}}'
    )


def both(value: Any) -> str:
    """Why the server refuses a block document reference it could load."""
    if not (isinstance(value, dict) and "$ref" in value):
        return ""
    return (
        " (the Prefect server accepts exactly one of the block's fields or a reference, and a"
        " reference also passes as the fields of a block type whose fields are all optional;"
        " give the fields, or set enforce_parameter_schema: false)"
    )


def server_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Prefect's preprocess_schema, minus the top-level `required` (missing parameters are
    reported by name).

    A property with a type, no default and not required also accepts null, in the
    parameters and in the definitions; a block type's definition also accepts a block
    document reference (`{"$ref": ...}`, exactly one of the two). (Prefect also rewrites
    pydantic v1 tuples, which flowfleet's schemas never contain.)
    """
    properties = _nullable(schema.get("properties", {}), schema.get("required", []))
    result = {k: v for k, v in schema.items() if k != "required"} | {"properties": properties}
    if isinstance(schema.get("definitions"), dict):
        definitions = dict(schema["definitions"])
        for definition in schema["definitions"].values():
            if "properties" in definition:
                nullable = _nullable(definition["properties"], definition.get("required", []))
                definition = {**definition, "properties": nullable}
            if "block_type_slug" in definition:  # keyed by title, as Prefect does
                definitions[definition["title"]] = {"oneOf": [definition, _REFERENCE]}
        result["definitions"] = definitions
    return result


_REFERENCE = {
    "type": "object",
    "properties": {
        "$ref": {
            "oneOf": [
                {"type": "string", "format": "uuid"},
                {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1},
            ]
        }
    },
    "required": ["$ref"],
}


def _nullable(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """Prefect's process_properties (pydantic v1's optional fields also accept null)."""
    result: dict[str, Any] = {}
    for name, prop in properties.items():
        if name not in required and "default" not in prop and prop.get("type", "null") != "null":
            prop = {k: v for k, v in prop.items() if k != "type"}
            prop["anyOf"] = [{"type": properties[name]["type"]}, {"type": "null"}]
        if "properties" in prop:
            prop = {**prop, "properties": _nullable(prop["properties"], prop.get("required", []))}
        result[name] = prop
    return result
