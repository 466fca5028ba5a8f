"""Turn pydantic's validation errors into messages that point into the user's file."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from flowfleet.config.automations import deployment_trigger_type, trigger_type
from flowfleet.config.document import DocPath, Document
from flowfleet.errors import Problem


def problems_from(
    exc: pydantic.ValidationError, model: type[pydantic.BaseModel], document: Document
) -> list[tuple[DocPath, Problem]]:
    """One problem per error, located at the offending value (or unknown key)."""
    results: list[tuple[DocPath, Problem]] = []
    seen: set[DocPath] = set()
    errors = exc.errors(include_url=False)
    relevant = [e for e in errors if not _other_member(e, errors, document.data)]
    for error in relevant or errors:
        is_key = error["loc"][-1:] == ("[key]",)
        path = _document_path(error["loc"], document.data, missing=error["type"] == "missing")
        if error["type"] == "union_tag_invalid" and isinstance(error["input"], dict):
            path = (*path, "type")  # an unknown `type`: point at it
        message = _message(error, path, model, is_key=is_key)
        at_key = is_key or error["type"] == "extra_forbidden" or _about_key(message, path)
        if path in seen and not at_key:
            continue  # one message per value is enough (unions report every member)
        seen.add(path)
        results.append((path, Problem(document.locate(path, key=at_key), message)))
    return results


def _about_key(message: str, path: DocPath) -> bool:
    """A message about the key itself ("'day_or' applies to ...") points at the key."""
    if not path:
        return False
    return message.split(": ", 1)[-1].startswith(f"'{path[-1]}' ")


def _document_path(loc: tuple[int | str, ...], data: Any, *, missing: bool) -> DocPath:
    """pydantic's loc without what it inserts: the name of the union member a value was
    read as (`list[str]`, `WorkPoolSettings`) and a discriminated union's tag (`event`)."""
    path: list[str | int] = []
    node = data
    parts = [part for part in loc if part != "[key]"]
    tagged = None  # the mapping whose tag was seen: a second `metric` is the key
    for index, part in enumerate(parts):
        if isinstance(node, dict) and node is not tagged and _is_tag(part, node):
            tagged = node
            continue
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif missing and index == len(parts) - 1 and isinstance(node, dict):
            path.append(part)  # the missing key
            node = None
    return tuple(path)


def _is_tag(part: int | str, node: dict[str, Any]) -> bool:
    """Whether `part` is the tag of the member of a discriminated union that `node` was
    read as: its `type`, or the type Prefect infers for a trigger without one."""
    if "type" in node:
        return bool(part == node["type"])
    inferred = {trigger_type(node), deployment_trigger_type(node)}
    return part in inferred and (part not in node or part == "metric")


def _other_member(error: ErrorDetails, errors: list[ErrorDetails], data: Any) -> bool:
    """An error of a union member the value is not shaped like (`expected a valid list,
    found a mapping`) while another member has errors inside the value: noise."""
    if not _shape_mismatch(error, data):
        return False
    union = error["loc"][:-1]
    return any(e["loc"][: len(union)] == union and not _shape_mismatch(e, data) for e in errors)


def _shape_mismatch(error: ErrorDetails, data: Any) -> bool:
    """A union member's error that the value is not of its type at all."""
    loc = error["loc"]
    if not error["type"].endswith("_type") or not loc or not isinstance(loc[-1], str):
        return False
    # The last part is a member's name, not a key of the value.
    inner = _document_path(loc, data, missing=False)
    return len(inner) == len(_document_path(loc[:-1], data, missing=False))


EXPECTED_AT_LEAST = {"environments": "at least one environment"}


def _message(
    error: ErrorDetails, path: DocPath, model: type[pydantic.BaseModel], *, is_key: bool
) -> str:
    parent_level = is_key or error["type"] in ("extra_forbidden", "missing")
    where = dotted(path[:-1]) if parent_level else dotted(path)
    prefix = f"{where}: " if where else ""
    found = describe(error["input"])
    if error["type"] in ("dict_type", "model_type", "model_attributes_type"):
        return f"{prefix}expected a mapping, found {found}"
    if error["type"] == "too_short":
        wanted = EXPECTED_AT_LEAST.get(str(path[-1]) if path else "", "at least one value")
        return f"{prefix}expected {wanted}, found {found}"
    if error["type"] in ("too_long", "string_too_long") and isinstance(error["input"], str):
        limit = error.get("ctx", {}).get("max_length")
        length = len(error["input"])
        return f"{prefix}expected at most {limit} characters, found {length}: {found}"
    if error["type"] == "extra_forbidden":
        key = str(path[-1])
        return f"{prefix}unknown key '{key}'; {_suggest(key, _allowed_keys(model, path[:-1]))}"
    if error["type"] == "missing":
        return f"{prefix}missing required key '{path[-1]}'"
    if error["type"] == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag"))
        tags = str(error.get("ctx", {}).get("expected_tags", "")).replace("'", "").split(", ")
        return f"{prefix}unknown type '{tag}'; {_suggest(tag, tags)}"
    message = error["msg"]
    if message.startswith("Value error, "):
        return prefix + message.removeprefix("Value error, ")
    if message.startswith("Assertion failed, "):
        return prefix + message.removeprefix("Assertion failed, ")
    expected = message.removeprefix("Input should be ").removeprefix("Input ").split(", ")[0]
    if expected.startswith(("greater", "less")):
        expected = f"a number {expected}"
    return f"{prefix}expected {expected}, found {found}{_other_case(error)}"


def _other_case(error: ErrorDetails) -> str:
    """`; did you mean 'Reactive'?` for a literal written in another case."""
    given = error["input"]
    if error["type"] != "literal_error" or not isinstance(given, str):
        return ""
    allowed = str(error.get("ctx", {}).get("expected", "")).replace(" or ", ", ").split(", ")
    same = [a.strip("'") for a in allowed if a.strip("'").casefold() == given.casefold()]
    return f"; did you mean '{same[0]}'?" if same else ""


def dotted(path: DocPath) -> str:
    """`deployments[2].schedules[0].cron`, as the user would name the place."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(value: Any) -> str:
    """A short description of a found value for an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        if not value:
            return "an empty list"
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return type(value).__name__


def _suggest(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "expected one of: " + ", ".join(allowed) if allowed else "remove it"


def _allowed_keys(model: type[pydantic.BaseModel], path: DocPath) -> list[str]:
    """The keys the model accepts at `path` (a mapping in the document); for a union of
    models (a trigger, an action), the keys of any of them."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        models = _members(current)
        if models:
            field = next((f for m in models if (f := _field(m, str(part)))), None)
            current = field.annotation if field else None
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    models = _members(_unwrap(current))
    return list(dict.fromkeys(f.alias or n for m in models for n, f in m.model_fields.items()))


def _members(annotation: Any) -> list[type[pydantic.BaseModel]]:
    """The model, or the models of a union of them."""
    if _is_model(annotation):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) if _is_model(m := _unwrap(a))]
    return []


def _field(model: type[pydantic.BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == key:
            return field
    return None


def _unwrap(annotation: Any) -> Any:
    """The model inside Optional[...] / Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in map(_unwrap, members) if _is_model(m)]
            if len(members) != 1:  # a number or a mapping: the mapping's keys
                return models[0] if len(models) == 1 else annotation
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)
