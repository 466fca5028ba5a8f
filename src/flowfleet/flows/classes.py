"""Classes of a flow file (or of a project module it imports) rebuilt from their source.

Prefect's source reader executes a flow file's class statements; flowfleet must not run
the user's code, so it rebuilds the classes that only declare data from their statements:
enums, pydantic models, dataclasses and TypedDicts whose fields have types and defaults
known statically (evaluate.py). The class is then made by the same machinery a class
statement uses (`type(...)`, `dataclasses.dataclass`, the Enum functional API), so pydantic
gives it the schema it gives Prefect. Anything else is UNKNOWN (a parameter typed with it
gets `{}`, as Prefect gives when it cannot evaluate an annotation).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import types
import typing
from typing import Any

import pydantic
import typing_extensions

from flowfleet.flows.evaluate import (
    UNKNOWN,
    Unevaluable,
    default_value,
    evaluate,
    evaluate_annotation,
)

_TYPED_DICTS = (typing.TypedDict, typing_extensions.TypedDict)
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)
MODULE = "prefect_safe_namespace_loader"  # the __name__ Prefect's source reader gives them


class _NotData(Exception):
    """The class does more than declare data."""


def build_class(node: ast.ClassDef, names: dict[str, object]) -> object:
    """The class `node` declares, rebuilt without running code, or UNKNOWN."""
    try:
        bases = [evaluate(base, names) for base in node.bases]
    except Unevaluable:
        return UNKNOWN
    try:
        if any(isinstance(b, type) and issubclass(b, enum.Enum) for b in bases):
            return _enum_class(node, bases)
        if any(b in _TYPED_DICTS or _is_typed_dict(b) for b in bases):
            return _typed_dict(node, names, bases)
        if bases and all(isinstance(b, type) and issubclass(b, pydantic.BaseModel) for b in bases):
            return _model(node, names, bases)
        decorator = _dataclass_decorator(node, names)
        if decorator is not None and all(dataclasses.is_dataclass(b) for b in bases):
            return decorator(_plain_class(node, names, bases, dataclass=True))
    except (_NotData, Unevaluable):
        return UNKNOWN
    except Exception:  # e.g. pydantic refusing the class: Prefect's class statement fails too
        return UNKNOWN
    return UNKNOWN


def _is_typed_dict(base: object) -> bool:
    return isinstance(base, type) and typing_extensions.is_typeddict(base)


def _enum_class(node: ast.ClassDef, bases: list[object]) -> object:
    """A real Enum built from `class Color(str, Enum): RED = "red"`, else UNKNOWN."""
    kinds = [b for b in bases if isinstance(b, type) and issubclass(b, enum.Enum)]
    mixins = [b for b in bases if b in (str, int)]
    if len(kinds) != 1 or len(bases) != len(mixins) + 1 or node.keywords or node.decorator_list:
        return UNKNOWN
    members: list[tuple[str, object]] = []
    for stmt in _body(node):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return UNKNOWN
        target = stmt.targets[0]
        if not isinstance(target, ast.Name) or target.id.startswith("_"):
            return UNKNOWN
        try:
            members.append((target.id, ast.literal_eval(stmt.value)))
        except _LITERAL_ERRORS:
            return UNKNOWN
    try:  # the functional API: no code from the flow file runs
        functional: Any = kinds[0]
        built: type[enum.Enum] = functional(node.name, members, type=mixins[0] if mixins else None)
    except (TypeError, ValueError):
        return UNKNOWN
    built.__doc__ = ast.get_docstring(node, clean=False)  # pydantic turns it into "description"
    return built


def _body(node: ast.ClassDef) -> list[ast.stmt]:
    """The statements of the class body, without its docstring and `pass`."""
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    return [stmt for stmt in body if not isinstance(stmt, ast.Pass)]


def _namespace(node: ast.ClassDef, names: dict[str, object], *, methods: bool) -> dict[str, Any]:
    """The class namespace its statements make: annotations and defaults (and `model_config`
    of literals); methods are left out when `methods` (they do not change the schema)."""
    annotations: dict[str, object] = {}
    namespace: dict[str, Any] = {"__module__": MODULE, "__qualname__": node.name}
    namespace["__doc__"] = ast.get_docstring(node, clean=False)
    for stmt in _body(node):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            annotations[stmt.target.id] = evaluate_annotation(stmt.annotation, names)
            if stmt.value is not None:
                namespace[stmt.target.id] = _default(stmt.value, names)
        elif isinstance(stmt, ast.Assign) and _is_config(stmt):
            namespace["model_config"] = _config(stmt.value, names)
        elif not (methods and isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)):
            raise _NotData(node.name)
    namespace["__annotations__"] = annotations
    return namespace


def _default(node: ast.expr, names: dict[str, object]) -> object:
    value = default_value(node, names)
    if value is UNKNOWN:  # e.g. a call: Prefect would have its value; here it is unknown
        raise _NotData("default")
    return value


def _is_config(stmt: ast.Assign) -> bool:
    target = stmt.targets[0]
    return len(stmt.targets) == 1 and isinstance(target, ast.Name) and target.id == "model_config"


def _config(node: ast.expr, names: dict[str, object]) -> object:
    call = isinstance(node, ast.Call) and evaluate(node.func, names) is pydantic.ConfigDict
    if isinstance(node, ast.Call) and call and not node.args:
        return {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    if isinstance(node, ast.Dict):
        return ast.literal_eval(node)
    raise _NotData("model_config")


def _model(node: ast.ClassDef, names: dict[str, object], bases: list[object]) -> object:
    if node.keywords or node.decorator_list:
        raise _NotData(node.name)
    namespace = _namespace(node, names, methods=True)
    return type(node.name, tuple(typing.cast("list[type]", bases)), namespace)


def _plain_class(
    node: ast.ClassDef, names: dict[str, object], bases: list[object], *, dataclass: bool
) -> type:
    if node.keywords or len(node.decorator_list) != int(dataclass):
        raise _NotData(node.name)
    namespace = _namespace(node, names, methods=True)
    return types.new_class(node.name, tuple(bases), exec_body=lambda ns: ns.update(namespace))


def _typed_dict(node: ast.ClassDef, names: dict[str, object], bases: list[object]) -> object:
    if node.decorator_list or any(k.arg != "total" for k in node.keywords):
        raise _NotData(node.name)
    keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    namespace = _namespace(node, names, methods=False)
    if set(namespace) - {"__module__", "__qualname__", "__doc__", "__annotations__"}:
        raise _NotData(node.name)  # TypedDict fields cannot have defaults
    return types.new_class(
        node.name, tuple(bases), keywords, exec_body=lambda ns: ns.update(namespace)
    )


def _dataclass_decorator(node: ast.ClassDef, names: dict[str, object]) -> Any:
    """`dataclasses.dataclass` with the decorator's literal options, if the class has it."""
    if len(node.decorator_list) != 1:
        return None
    decorator = node.decorator_list[0]
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if evaluate(target, names) is not dataclasses.dataclass:
        return None
    if not isinstance(decorator, ast.Call):
        return dataclasses.dataclass
    if decorator.args or not all(k.arg for k in decorator.keywords):
        raise _NotData(node.name)
    options = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords if k.arg}
    return dataclasses.dataclass(**options)
