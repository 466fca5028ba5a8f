"""The wording of a wrong parameter value: what the schema expects, in English, and what
was found, shown JSON-like."""

from __future__ import annotations

from typing import Any

from flowfleet.flows.types import Flow


def wrong_value_at(flow: Flow, path: list[Any], values: dict[str, Any], label: str = "") -> str:
    """The message for a wrong value at `path` (parameter name first, then items/keys)."""
    definitions = flow.parameter_schema.get("definitions", {})
    name = str(path[0])
    schema = flow.parameter_schema["properties"][name]
    value, where = values[name], label or name
    for step in path[1:]:
        schema = _resolve(_not_null(schema, value), definitions)
        if "anyOf" in schema or "oneOf" in schema:
            break  # describe the whole union rather than guess which member was meant
        inner = _inner_schema(schema, step, value)
        if inner is None:
            break
        schema, value = inner, value[step]
        where += f"[{step}]" if isinstance(step, int) else f"[{step!r}]"
    return wrong_value(flow, where, _describe(schema, definitions), value)


def _not_null(schema: dict[str, Any], value: Any) -> dict[str, Any]:
    """The one other member of an `Optional[...]` union, for a value that is not null."""
    options = schema.get("anyOf")
    if value is None or not isinstance(options, list):
        return schema
    others = [o for o in options if o != {"type": "null"}]
    return others[0] if len(others) == 1 and len(options) == 2 else schema


def _inner_schema(schema: dict[str, Any], step: Any, value: Any) -> dict[str, Any] | None:
    inner: Any = None
    if isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
        prefix = schema.get("prefixItems", [])
        inner = prefix[step] if step < len(prefix) else schema.get("items")
    elif isinstance(step, str) and isinstance(value, dict) and step in value:
        inner = schema.get("properties", {}).get(step, schema.get("additionalProperties"))
    return inner if isinstance(inner, dict) else None


def wrong_value(flow: Flow, where: str, expected: str, value: Any) -> str:
    """The message for `value` at `where` (a parameter, or an item of one), not `expected`."""
    return f"parameter '{where}' of flow {flow.name!r}: expected {expected}, found {_found(value)}"


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        target = definitions.get(ref.removeprefix("#/definitions/"))
        if isinstance(target, dict):
            return target
    return schema


# Config files are YAML: say list and mapping (as the config schema errors do), not array/object.
_YAML_WORDS = {"array": "list", "object": "mapping"}


def _describe(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    """A short English description of a JSON schema: "integer", "list of string items"."""
    schema = _resolve(schema, definitions)
    if "enum" in schema:
        options = schema["enum"]
        return _show(options[0]) if len(options) == 1 else f"one of {_show_all(options)}"
    if "const" in schema:
        return _show(schema["const"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return " or ".join(dict.fromkeys(_describe(o, definitions) for o in options))
    kind = schema.get("type")
    if kind == "array":
        return _describe_array(schema, definitions)
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and extra:
        return f"mapping with {_describe(extra, definitions)} values"
    if kind == "string" and "format" in schema:
        return f"{schema['format']} string"
    return _YAML_WORDS.get(kind, kind) if isinstance(kind, str) else "any value"


def _describe_array(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    prefix = schema.get("prefixItems")
    if prefix:
        members = ", ".join(_describe(p, definitions) for p in prefix)
        return f"list of {len(prefix)} items ({members})"
    items = schema.get("items")
    if not items:
        return "list"
    item = _describe(items, definitions)
    if " or " in item or item.startswith("one of "):
        item = f"({item})"
    return f"list of {'unique ' if schema.get('uniqueItems') else ''}{item} items"


def _found(value: Any) -> str:
    if value is None:
        return "null"
    kinds: list[tuple[type, str]] = [(bool, "a boolean"), (int, "an integer"), (float, "a number")]
    kinds += [(str, "a string"), (list, "a list"), (dict, "a mapping")]
    kind = next((k for t, k in kinds if isinstance(value, t)), type(value).__name__)
    return f"{_show(value)} ({kind})"


def _show(value: Any, limit: int = 60) -> str:
    """A JSON-like rendering: strings quoted like Python, true/false/null, cut at `limit`."""
    text = _render(value, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_all(values: list[Any]) -> str:
    return ", ".join(_show(v) for v in values)


def _render(value: Any, limit: int) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, list):
        return "[" + ", ".join(_render(v, limit) for v in value[:limit]) + "]"
    if isinstance(value, dict):
        pairs = list(value.items())[:limit]
        return "{" + ", ".join(f"{_render(k, limit)}: {_render(v, limit)}" for k, v in pairs) + "}"
    return repr(value)
