"""Reading a flow file without running it: parsing, module-level names, static evaluation.

Prefect (`parameter_schema_from_entrypoint`) executes the module's import statements to
evaluate annotations. flowfleet must not run user code and must stay fast, so annotations
are evaluated against a whitelist of well-known types; anything else becomes `Any`, which is
also what Prefect does when it cannot evaluate an annotation. A default is known when it is
a literal, an enum member or a whitelisted constructor called with literals
(`date(2024, 1, 1)`, `Field(default=1, description="...")`).
"""

from __future__ import annotations

import ast
import datetime
import decimal
import enum
import functools
import pathlib
import typing
import uuid
import warnings
from collections import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ModuleRef:
    """A name bound to a (whitelisted or not) module, e.g. `dt` after `import datetime as dt`."""

    name: str


class _Unknown:
    """A name bound to something flowfleet cannot know without running the module."""


UNKNOWN = _Unknown()
FLOW_DECORATOR = ModuleRef("prefect.flow")  # stands for the `prefect.flow` object itself
FIELD = ModuleRef("pydantic.Field")  # stands for `pydantic.Field`, called only with literals

_TYPING_NAMES = "Any Optional Union List Dict Tuple Set FrozenSet Literal Annotated Sequence"
_TYPING: dict[str, object] = {n: getattr(typing, n) for n in [*_TYPING_NAMES.split(), "Mapping"]}
_SAFE: dict[str, dict[str, object]] = {
    "builtins": {
        t.__name__: t
        for t in (int, str, float, bool, bytes, list, dict, tuple, set, frozenset, complex)
    },
    "typing": _TYPING,
    "typing_extensions": _TYPING,
    "datetime": {t.__name__: t for t in (datetime.date, datetime.datetime, datetime.time)}
    | {"timedelta": datetime.timedelta},
    "uuid": {"UUID": uuid.UUID},
    "pathlib": {"Path": pathlib.Path},
    "decimal": {"Decimal": decimal.Decimal},
    "collections.abc": {"Sequence": abc.Sequence, "Mapping": abc.Mapping},
    "enum": {n: getattr(enum, n) for n in ("Enum", "IntEnum", "StrEnum") if hasattr(enum, n)},
    "prefect": {"flow": FLOW_DECORATOR},
    "prefect.flows": {"flow": FLOW_DECORATOR},
    "pydantic": {"Field": FIELD},
    "pydantic.fields": {"Field": FIELD},
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


class Unevaluable(Exception):
    """The expression cannot be evaluated statically."""


def _attribute(module: str, name: str) -> object:
    child = f"{module}.{name}"
    if child in _SAFE or child in _PACKAGES:
        return ModuleRef(child)
    return _SAFE.get(module, {}).get(name, UNKNOWN)


def module_names(tree: ast.Module) -> dict[str, object]:
    """What each module-level name is bound to, as far as it can be known statically."""
    # Unbound `flow` / `prefect` count as Prefect's (e.g. after `from prefect import *`).
    names: dict[str, object] = {"flow": FLOW_DECORATOR, "prefect": ModuleRef("prefect")}
    names |= _SAFE["builtins"]
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                names[alias.asname or top] = ModuleRef(alias.name if alias.asname else top)
        elif isinstance(node, ast.ImportFrom):
            module = "" if node.level else node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    names |= _SAFE.get(module, {})
                else:
                    names[alias.asname or alias.name] = _attribute(module, alias.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            single = len(targets) == 1 and isinstance(targets[0], ast.Name)
            value = _alias_value(node.value, names) if single else UNKNOWN
            names |= {name: value for target in targets for name in _target_names(target)}
        elif isinstance(node, ast.AugAssign):
            names |= {name: UNKNOWN for name in _target_names(node.target)}
        elif isinstance(node, ast.ClassDef):
            names[node.name] = _enum_class(node, names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = UNKNOWN
    return names


_BLOCKS = (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With, ast.AsyncWith)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside `if`/`try`/`with` blocks."""
    for node in body:
        yield node
        if isinstance(node, _BLOCKS):
            for attr in ("body", "orelse", "finalbody"):
                yield from _statements(getattr(node, attr, []))
            for handler in getattr(node, "handlers", []):
                yield from _statements(handler.body)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _alias_value(node: ast.expr, names: dict[str, object]) -> object:
    """The value of `Mode = Literal["a", "b"]`-style type aliases (a plain string is data)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return UNKNOWN
    try:
        return evaluate(node, names)
    except Unevaluable:
        return UNKNOWN


def _enum_class(node: ast.ClassDef, names: dict[str, object]) -> object:
    """A real Enum built from `class Color(str, Enum): RED = "red"`, else UNKNOWN."""
    try:
        bases = [evaluate(base, names) for base in node.bases]
    except Unevaluable:
        return UNKNOWN
    kinds = [b for b in bases if isinstance(b, type) and issubclass(b, enum.Enum)]
    mixins = [b for b in bases if b in (str, int)]
    if len(kinds) != 1 or len(bases) != len(mixins) + 1 or node.keywords or node.decorator_list:
        return UNKNOWN
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    members: list[tuple[str, object]] = []
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return UNKNOWN
        target = stmt.targets[0]
        if not isinstance(target, ast.Name) or target.id.startswith("_"):
            return UNKNOWN
        try:
            members.append((target.id, ast.literal_eval(stmt.value)))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return UNKNOWN
    try:  # the functional API: no code from the flow file runs
        functional: Any = kinds[0]
        built: type[enum.Enum] = functional(node.name, members, type=mixins[0] if mixins else None)
    except (TypeError, ValueError):
        return UNKNOWN
    built.__doc__ = ast.get_docstring(node, clean=False)  # pydantic turns it into "description"
    return built


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
        base = evaluate(node.value, names, depth + 1)
        if isinstance(base, ModuleRef):
            return _known(_attribute(base.name, node.attr))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = (evaluate(side, names, depth + 1) for side in (node.left, node.right))
        return _apply(typing.Union, (left, right))
    elif isinstance(node, ast.Subscript):
        return _subscript(node, names, depth)
    elif isinstance(node, ast.Call) and _is_type_of_none(node, names):
        return type(None)
    raise Unevaluable(ast.unparse(node))


def _known(value: object) -> object:
    if value is UNKNOWN:
        raise Unevaluable("unknown name")
    return value


def _subscript(node: ast.Subscript, names: dict[str, object], depth: int) -> object:
    base = evaluate(node.value, names, depth + 1)
    elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if base is typing.Literal:
        try:
            return _apply(base, tuple(ast.literal_eval(e) for e in elts))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise Unevaluable(ast.unparse(node)) from exc
    if base is typing.Annotated:  # metadata such as Field(ge=1) would need code execution
        return evaluate(elts[0], names, depth + 1)
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


def default_value(node: ast.expr, names: dict[str, object]) -> object:
    """A parameter default known without running code (a literal, `Path("x")`, `Color.RED`,
    or a `pydantic.Field(...)` of literals, as the FieldInfo it makes)."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        if isinstance(node, ast.Call):
            func = evaluate(node.func, names)
            if func is FIELD:
                func = pydantic.Field
            if any(func is c for c in (*_CONSTRUCTORS, pydantic.Field)) and callable(func):
                args = [ast.literal_eval(a) for a in node.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
                if len(kwargs) == len(node.keywords):
                    with warnings.catch_warnings():  # e.g. Field(unknown=1) is deprecated
                        warnings.simplefilter("ignore")
                        return func(*args, **kwargs)
        elif isinstance(node, ast.Attribute):
            owner = evaluate(node.value, names)
            if isinstance(owner, type) and issubclass(owner, enum.Enum):
                return owner[node.attr]
    except Exception:  # a failed guess only means "default unknown"
        pass
    return UNKNOWN


# --- The flow file ----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceModule:
    """A parsed flow file: its top-level functions and module-level names."""

    functions: dict[str, FunctionNode]  # top-level functions; the last definition wins
    names: dict[str, object]


@functools.lru_cache(maxsize=256)
def read_module(path: str, mtime_ns: int, size: int, display: str) -> SourceModule | str:
    """The parsed flow file, or why it cannot be parsed (cached: failures are cheap to repeat)."""
    try:
        data = pathlib.Path(path).read_bytes()
    except OSError as exc:
        return f"cannot read {display}: {exc.strerror}"
    try:
        text = data.decode("utf-8-sig")  # Python itself accepts a UTF-8 byte order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        return f"{display} line {line}: not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8"
    try:
        tree = ast.parse(text, filename=display)
    except SyntaxError as exc:  # null bytes: SyntaxError without a line (ValueError < 3.11.4)
        return f"{display} line {exc.lineno}: {exc.msg}" if exc.lineno else f"{display}: {exc.msg}"
    except ValueError as exc:
        return f"{display}: {exc}"
    except (RecursionError, MemoryError):
        return f"{display}: too deeply nested for Python to parse"
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return SourceModule(functions, module_names(tree))


def flow_decorator(func: FunctionNode, names: dict[str, object]) -> ast.expr | None:
    """The `@flow` / `@flow(...)` / `@prefect.flow` / aliased decorator of `func`, if any."""
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        try:
            if evaluate(target, names) is FLOW_DECORATOR:
                return decorator
        except Unevaluable:
            continue
    return None
