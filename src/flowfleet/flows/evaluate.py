"""Static evaluation of a flow file's expressions: annotations, defaults, constants.

Names are bound to what they are known to be without running code: a whitelisted type, a
module of the project (read from source too), a module-level constant, a class rebuilt from
its source (classes.py), or something only importing could tell (UNKNOWN, or Foreign when
it comes from an installed library).
"""

from __future__ import annotations

import ast
import contextvars
import copy
import dataclasses
import datetime
import decimal
import enum
import pathlib
import typing
import uuid
import warnings
from collections import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
import typing_extensions

from flowfleet.flows import blocks

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ModuleRef:
    """A name bound to a (whitelisted or not) module, e.g. `dt` after `import datetime as dt`."""

    name: str


class _Unknown:
    """A name bound to something flowfleet cannot know without running the module."""


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Foreign:
    """A name imported from an installed library, which flowfleet does not import."""

    module: str
    name: str


@dataclass(frozen=True)
class Constant:
    """A module-level constant (`DEFAULT_RUNNER = "x"`): a default, never a type."""

    value: object


@dataclass(frozen=True, eq=False)
class ProjectModule:
    """A module of the project, read from its source: its names, and its submodules."""

    name: str
    names: dict[str, object]
    submodule: Callable[[str], object]  # the submodule `name.<attr>`, or UNKNOWN

    def attribute(self, attr: str) -> object:
        """What `module.attr` / `from module import attr` gives."""
        if attr in self.names:
            return self.names[attr]
        return self.submodule(attr)


FLOW_DECORATOR = ModuleRef("prefect.flow")  # stands for the `prefect.flow` object itself
FIELD = ModuleRef("pydantic.Field")  # stands for `pydantic.Field`, called only with literals

_TYPING_NAMES = "Any Optional Union List Dict Tuple Set FrozenSet Literal Annotated Sequence"
_TYPING: dict[str, object] = {
    n: getattr(typing, n) for n in [*_TYPING_NAMES.split(), "Mapping", "Callable"]
}
_TYPING |= {n: getattr(typing, n) for n in ("ClassVar", "NotRequired", "Required", "TypedDict")}
_EXTENSIONS = _TYPING | {
    n: getattr(typing_extensions, n) for n in ("NotRequired", "Required", "TypedDict")
}
# Real classes and functions: a class is rebuilt from its source on them (classes.py).
_PYDANTIC = {"Field": FIELD, "BaseModel": pydantic.BaseModel, "ConfigDict": pydantic.ConfigDict}
_SAFE: dict[str, dict[str, object]] = {
    "builtins": {
        t.__name__: t
        for t in (int, str, float, bool, bytes, list, dict, tuple, set, frozenset, complex)
    },
    "typing": _TYPING,
    "typing_extensions": _EXTENSIONS,
    "datetime": {t.__name__: t for t in (datetime.date, datetime.datetime, datetime.time)}
    | {"timedelta": datetime.timedelta},
    "uuid": {"UUID": uuid.UUID},
    "pathlib": {"Path": pathlib.Path},
    "decimal": {"Decimal": decimal.Decimal},
    "collections.abc": {"Sequence": abc.Sequence, "Mapping": abc.Mapping, "Callable": abc.Callable},
    "enum": {n: getattr(enum, n) for n in ("Enum", "IntEnum", "StrEnum") if hasattr(enum, n)},
    "dataclasses": {"dataclass": dataclasses.dataclass, "field": dataclasses.field},
    "prefect": {"flow": FLOW_DECORATOR},
    "prefect.flows": {"flow": FLOW_DECORATOR},
    "pydantic": _PYDANTIC,
    "pydantic.fields": {"Field": FIELD},
    "pydantic.main": {"BaseModel": pydantic.BaseModel},
}
_PACKAGES = {"collections"}  # parents of whitelisted modules (`import collections.abc`)
# Defaults constructible from literal arguments without side effects (`date(2024, 1, 1)`);
# not bytes: `bytes(10**9)` would allocate a gigabyte.
_CONSTRUCTORS: tuple[object, ...] = (
    *(t for t in _SAFE["builtins"].values() if t is not bytes),
    *_SAFE["datetime"].values(),
    uuid.UUID,
    pathlib.Path,
    decimal.Decimal,
)
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


class Unevaluable(Exception):
    """The expression cannot be evaluated statically; `library` names the installed library
    a name of it comes from, if that is why."""

    def __init__(self, text: str, library: str | None = None) -> None:
        super().__init__(text)
        self.library = library


def is_whitelisted(module: str) -> bool:
    """Whether flowfleet knows `module` without reading or importing it."""
    return module in _SAFE or module in _PACKAGES or module == "prefect"


def safe_names(module: str) -> dict[str, object]:
    """The names of a whitelisted module that flowfleet knows."""
    return _SAFE.get(module, {})


def attribute(module: str, name: str) -> object:
    """What `from module import name` gives, for a module that is not the project's."""
    child = f"{module}.{name}"
    if child in _SAFE or child in _PACKAGES:
        return ModuleRef(child)
    if module in _SAFE:
        return _SAFE[module].get(name, UNKNOWN)
    return Foreign(module, name)


def evaluate(node: ast.expr, names: dict[str, object], depth: int = 0) -> object:
    """The typing object an annotation expression stands for; raises Unevaluable."""
    if depth > 20:
        raise Unevaluable("too deeply nested")
    if isinstance(node, ast.Constant):
        if node.value is None:
            return None
        if isinstance(node.value, str):  # a string annotation: parse and evaluate it the same way
            try:
                inner = ast.parse(node.value.strip(), mode="eval").body
            except SyntaxError as exc:
                raise Unevaluable(node.value) from exc
            return evaluate(inner, names, depth + 1)
    elif isinstance(node, ast.Name):
        return _known(names.get(node.id, UNKNOWN))
    elif isinstance(node, ast.Attribute):
        outer = names.get(node.value.id) if isinstance(node.value, ast.Name) else None
        if isinstance(outer, Foreign):  # `from prefect_aws import credentials` + `credentials.X`
            return _known(Foreign(f"{outer.module}.{outer.name}", node.attr))
        base = evaluate(node.value, names, depth + 1)
        if isinstance(base, ProjectModule):
            return _known(base.attribute(node.attr))
        if isinstance(base, ModuleRef):
            return _known(attribute(base.name, node.attr))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = (evaluate(side, names, depth + 1) for side in (node.left, node.right))
        return _apply(typing.Union, (left, right))
    elif isinstance(node, ast.Subscript):
        return _subscript(node, names, depth)
    elif isinstance(node, ast.Call) and _is_type_of_none(node, names):
        return type(None)
    raise Unevaluable(ast.unparse(node))


_ANNOTATION = contextvars.ContextVar("annotation", default=False)


def evaluate_annotation(node: ast.expr, names: dict[str, object]) -> object:
    """`evaluate` for a parameter's or a field's annotation, where a class of Prefect's
    packages (a block type) stands for itself (blocks.py); raises Unevaluable."""
    token = _ANNOTATION.set(True)
    try:
        return evaluate(node, names)
    finally:
        _ANNOTATION.reset(token)


def foreign_names(node: ast.expr | None, names: dict[str, object]) -> list[Foreign]:
    """The names of installed libraries an annotation mentions (`X`, `module.X`)."""
    found: list[Foreign] = []
    nodes = list(ast.walk(node)) if node is not None else []
    bases = {id(sub.value) for sub in nodes if isinstance(sub, ast.Attribute)}
    for sub in nodes:
        if id(sub) in bases and not isinstance(sub, ast.Attribute):
            continue  # `module` of `module.X`
        if isinstance(sub, ast.Name) and isinstance(names.get(sub.id), Foreign):
            found.append(typing.cast("Foreign", names[sub.id]))
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            outer = names.get(sub.value.id)
            if isinstance(outer, Foreign):
                found.append(Foreign(f"{outer.module}.{outer.name}", sub.attr))
            elif isinstance(outer, ModuleRef):
                inner = attribute(outer.name, sub.attr)
                found += [inner] if isinstance(inner, Foreign) else []
    return found


def _known(value: object) -> object:
    if isinstance(value, Foreign) and _ANNOTATION.get() and blocks.is_candidate(value.module):
        found = blocks.stand_in(value.module, value.name)
        if found is not None:
            return found
    if isinstance(value, Foreign):
        raise Unevaluable(f"{value.module}.{value.name}", library=value.module.partition(".")[0])
    if value is UNKNOWN or isinstance(value, Constant):
        raise Unevaluable("unknown name")
    return value


def _subscript(node: ast.Subscript, names: dict[str, object], depth: int) -> object:
    base = evaluate(node.value, names, depth + 1)
    elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if base is typing.Literal:
        try:
            return _apply(base, tuple(ast.literal_eval(e) for e in elts))
        except _LITERAL_ERRORS as exc:
            raise Unevaluable(ast.unparse(node)) from exc
    if base is typing.Annotated:  # metadata such as Field(ge=1) would need code execution
        return evaluate(elts[0], names, depth + 1)
    if base in (typing.Callable, abc.Callable) and isinstance(node.slice, ast.Tuple):
        return base  # pydantic gives Callable[...] the schema of Callable
    return _apply(base, tuple(evaluate(e, names, depth + 1) for e in elts))


def _apply(base: Any, args: tuple[object, ...]) -> object:
    try:
        return base[args if len(args) != 1 else args[0]]
    except Exception as exc:  # any failure just means "not a type we know"
        raise Unevaluable(repr(base)) from exc


def _is_type_of_none(node: ast.Call, names: dict[str, object]) -> bool:
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and "type" not in names
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value is None
    )


def constant_value(node: ast.expr, names: dict[str, object]) -> object:
    """The value of an expression that needs no code to run: a literal, a module constant,
    an f-string of those, `+` of strings; UNKNOWN otherwise."""
    try:
        return ast.literal_eval(node)
    except _LITERAL_ERRORS:
        pass
    if isinstance(node, ast.Name):
        bound = names.get(node.id)
        return copy.deepcopy(bound.value) if isinstance(bound, Constant) else UNKNOWN
    if isinstance(node, ast.JoinedStr):
        parts = [_formatted(value, names) for value in node.values]
        return UNKNOWN if any(p is UNKNOWN for p in parts) else "".join(map(str, parts))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = constant_value(node.left, names), constant_value(node.right, names)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    return UNKNOWN


def _formatted(node: ast.expr, names: dict[str, object]) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.FormattedValue) and node.format_spec is None:
        value = constant_value(node.value, names)
        if isinstance(value, str | int | float | bool) or value is None:
            convert: Callable[[object], str] = {114: repr, 97: ascii}.get(node.conversion, str)
            return convert(value)
    return UNKNOWN


def default_value(node: ast.expr, names: dict[str, object]) -> object:
    """A parameter default known without running code (a literal, a module constant,
    `Path("x")`, `Color.RED`, or a `pydantic.Field(...)` of those, as the FieldInfo it
    makes). A call of anything else (`date.today()`) is unknown: Prefect would freeze the
    value of the day it deploys."""
    value = constant_value(node, names)
    if value is not UNKNOWN:
        return value
    try:
        if isinstance(node, ast.Call):
            return _call_default(node, names)
        if isinstance(node, ast.Attribute):
            owner = evaluate(node.value, names)
            if isinstance(owner, type) and issubclass(owner, enum.Enum):
                return owner[node.attr]
    except Exception:  # a failed guess only means "default unknown"
        pass
    return UNKNOWN


def _call_default(node: ast.Call, names: dict[str, object]) -> object:
    func = evaluate(node.func, names)
    if func is FIELD:
        func = pydantic.Field
    if not any(func is c for c in (*_CONSTRUCTORS, pydantic.Field, dataclasses.field)):
        return UNKNOWN
    args = [_argument(a, names) for a in node.args]
    kwargs = {k.arg: _argument(k.value, names, k.arg) for k in node.keywords if k.arg}
    if len(kwargs) != len(node.keywords) or any(v is UNKNOWN for v in [*args, *kwargs.values()]):
        return UNKNOWN
    with warnings.catch_warnings():  # e.g. Field(unknown=1) is deprecated
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)  # type: ignore[operator]


def _argument(node: ast.expr, names: dict[str, object], keyword: str | None = None) -> object:
    if keyword == "default_factory":  # only a constructor of nothing (list, dict, ...)
        try:
            factory = evaluate(node, names)
        except Unevaluable:
            return UNKNOWN
        return factory if any(factory is c for c in _CONSTRUCTORS) else UNKNOWN
    value = constant_value(node, names)
    if value is UNKNOWN and isinstance(node, ast.Attribute | ast.Call):
        value = default_value(node, names)
    return value
