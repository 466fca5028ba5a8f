"""Placeholder values for a flow's required parameters, derived from its parameter schema.

`flowfleet init` must write a config that validates, and a deployment of a flow with
required parameters needs values for them. The placeholder is the simplest value of the
right type (the first choice of an enum, an empty string, zero, ...); the config marks
each one so that the user replaces it.
"""

from __future__ import annotations

from typing import Any

from flowfleet.flows.inspect import Flow

_MAX_DEPTH = 8
_BY_TYPE: dict[str, Any] = {
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "object": {},
    "null": None,
}
_BY_FORMAT = {
    "date": "2000-01-01",
    "date-time": "2000-01-01T00:00:00Z",
    "time": "00:00:00",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "duration": "PT0S",
}


def required_placeholders(flow: Flow) -> dict[str, Any]:
    """`{parameter: placeholder}` for each required parameter of `flow`, in signature order."""
    schema = flow.parameter_schema
    properties = schema.get("properties", {})
    definitions = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    required = set(schema.get("required", []))
    return {
        name: placeholder(prop, definitions)
        for name, prop in properties.items()
        if name in required
    }


def placeholder(prop: dict[str, Any], definitions: dict[str, Any], depth: int = 0) -> Any:
    """The simplest value that the JSON schema `prop` accepts (best effort)."""
    if depth > _MAX_DEPTH:
        return None
    if prop.get("enum"):
        return prop["enum"][0]
    if "const" in prop:
        return prop["const"]
    if isinstance(prop.get("$ref"), str):
        target = definitions.get(prop["$ref"].rsplit("/", 1)[-1], {})
        return placeholder(target, definitions, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        choices = [c for c in prop.get(key, []) if c.get("type") != "null"]
        if choices:
            return placeholder(choices[0], definitions, depth + 1)
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "string" and prop.get("format") in _BY_FORMAT:
        return _BY_FORMAT[prop["format"]]
    if kind == "object" and prop.get("properties"):
        return _object(prop, definitions, depth)
    return _BY_TYPE.get(str(kind))


def _object(prop: dict[str, Any], definitions: dict[str, Any], depth: int) -> dict[str, Any]:
    required = set(prop.get("required", []))
    return {
        name: placeholder(value, definitions, depth + 1)
        for name, value in prop["properties"].items()
        if name in required
    }
