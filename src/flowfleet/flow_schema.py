"""A flow's parameter schema, built from its source code without importing its module.

Prefect (`parameter_schema_from_entrypoint`) executes the module's import statements to
evaluate annotations. flowfleet must not run user code and must stay fast, so annotations
are evaluated against a whitelist of well-known types; anything else becomes `Any`, which is
also what Prefect does when it cannot evaluate an annotation. The schema itself is then made
exactly as Prefect makes it: pydantic `create_model` + `TypeAdapter(...).json_schema(...)`.

Where the result differs from what `prefect deploy` (which imports the flow) sends:
- types outside the whitelist (pydantic models, pandas, ...) are `Any`;
- `Annotated[...]` metadata such as `Field(ge=1)` is dropped;
- a default that is not a literal, an enum member or a whitelisted constructor called with
  literals (`date(2024, 1, 1)`) is unknown: optional, but no "default" in the schema;
- annotations of `*args` / `**kwargs` are ignored (as Prefect's own source reader does).
"""

from __future__ import annotations

import ast
import datetime
import decimal
import enum
import inspect
import pathlib
import re
import typing
import uuid
import warnings
from collections import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

if TYPE_CHECKING:
    from pydantic_core import core_schema

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ModuleRef:
    """A name bound to a (whitelisted or not) module, e.g. `dt` after `import datetime as dt`."""

    name: str


class _Unknown:
    """A name bound to something flowfleet cannot know without running the module."""


UNKNOWN = _Unknown()
FLOW_DECORATOR = ModuleRef("prefect.flow")  # stands for the `prefect.flow` object itself

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
    """A parameter default known without running code (a literal, `Path("x")`, `Color.RED`)."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        if isinstance(node, ast.Call):
            func = evaluate(node.func, names)
            if any(func is c for c in _CONSTRUCTORS) and callable(func):
                args = [ast.literal_eval(a) for a in node.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
                if len(kwargs) == len(node.keywords):
                    return func(*args, **kwargs)
        elif isinstance(node, ast.Attribute):
            owner = evaluate(node.value, names)
            if isinstance(owner, type) and issubclass(owner, enum.Enum):
                return owner[node.attr]
    except Exception:  # a failed guess only means "default unknown"
        pass
    return UNKNOWN


# --- Google-style docstrings, parsed the way griffe does it for Prefect ---------------

_SECTION = re.compile(r"^(?P<type>[\w][\s\w-]*):(\s+(?P<title>[^\s].*))?\s*$", re.IGNORECASE)
_PARAMETER_SECTIONS = {"args", "arguments", "params", "parameters"}


def parameter_docs(docstring: str | None) -> dict[str, str]:
    """Parameter descriptions from the "Args:" section, as griffe's Google parser finds them.

    Prefect uses griffe, which flowfleet must not import; this follows griffe's rules for
    sections (blank line above, indented lines below, code fences skipped) and items
    (`name (type): text`, continuation lines indented further). The last section wins.
    """
    if not docstring:
        return {}
    lines = inspect.cleandoc(docstring.rstrip()).split("\n")
    docs: dict[str, str] = {}
    index, in_code = 0, False
    while index < len(lines):
        line = lines[index]
        fence = line.lstrip(" ").startswith("```")
        if in_code or fence:
            in_code = in_code != fence
        elif ":" in line and (match := _SECTION.match(line)) and _starts_section(lines, index):
            items, index = _block_items(lines, index + 1)
            found = _parameter_items(items)
            if match["type"].lower() in _PARAMETER_SECTIONS and found:
                docs = found
        index += 1
    return docs


def _starts_section(lines: list[str], index: int) -> bool:
    def blank(i: int) -> bool:
        return i < len(lines) and not lines[i].strip()

    def indented(i: int) -> bool:
        return i < len(lines) and not blank(i) and lines[i].startswith(" ")

    if not (indented(index + 1) or indented(index + 2)):
        return False
    return (index == 0 or blank(index - 1)) and not (indented(index + 2) and blank(index + 1))


def _block_items(lines: list[str], start: int) -> tuple[list[list[str]], int]:
    """The items of the indented block from `start`, and the index of its last line."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    indent = len(lines[index]) - len(lines[index].lstrip()) if index < len(lines) else 0
    if indent == 0:
        return [], index - 1
    items = [[lines[index][indent:]]]
    index += 1
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            items[-1].append("")
        elif line.startswith(" " * indent * 2):
            items[-1].append(line[indent * 2 :])
        elif line.startswith(" " * (indent + 1)):
            items[-1].append(line.lstrip())
        elif line.startswith(" " * indent):
            items.append([line[indent:]])
        else:
            break
        index += 1
    return items, index - 1


def _parameter_items(items: list[list[str]]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for first, *rest in items:
        if ":" not in first:
            continue
        name, description = first.split(":", 1)
        if "(" in name and name.endswith(")"):
            name = name.split("(", 1)[0].strip()
        docs[name] = "\n".join([description.lstrip(), *rest]).rstrip("\n")
    return docs


# --- The schema -------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One parameter of the flow function."""

    name: str
    kind: inspect._ParameterKind
    required: bool  # no default (never true for *args / **kwargs)


@dataclass(frozen=True)
class Signature:
    """What flowfleet knows about a flow function's parameters."""

    parameters: tuple[Parameter, ...]
    schema: dict[str, Any]
    fields: dict[str, Any]  # pydantic fields of the parameters, by their own names
    defaults: dict[str, Any]  # the defaults known without running code


class SignatureError(Exception):
    """Prefect cannot handle this function's parameters either."""


class _EmptySchemaForUserClasses(GenerateJsonSchema):
    """Prefect's GenerateEmptySchemaForUserClasses: arbitrary classes get `{}`."""

    def is_instance_schema(self, schema: core_schema.IsInstanceSchema) -> JsonSchemaValue:
        return {}


def _unknown_default() -> None:
    """Stands for a default flowfleet cannot evaluate: optional, absent from the schema."""


def build_signature(func: FunctionNode, names: dict[str, object], doc: str | None) -> Signature:
    """The parameters, parameter_openapi_schema and pydantic fields of `func`.

    Made the way Prefect's generate_parameter_schema makes it, field by field.
    """
    docs = parameter_docs(doc)
    schema_fields: dict[str, Any] = {}
    runtime_fields: dict[str, Any] = {}
    parameters: list[Parameter] = []
    for position, (arg, kind, default) in enumerate(_arguments(func.args)):
        if arg.arg in ("self", "cls"):
            continue  # like Prefect: passed implicitly, not flow parameters (keeps positions)
        if arg.arg.startswith("_"):
            raise SignatureError(
                f"parameter '{arg.arg}' starts with an underscore, which Prefect cannot put "
                "in a parameter schema (pydantic rejects such field names); rename it"
            )
        variadic = kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        parameters.append(Parameter(arg.arg, kind, required=default is None and not variadic))
        # Prefect ignores annotations of *args / **kwargs in schemas read from source.
        type_ = _annotation(None if variadic else arg.annotation, names)
        given = _default(default, names)
        # Prefect renames parameters that clash with BaseModel attributes, aliasing them back.
        name = f"{arg.arg}__" if hasattr(pydantic.BaseModel, arg.arg) else arg.arg
        field: Any = pydantic.Field(
            **given,
            title=arg.arg,
            description=docs.get(arg.arg),
            alias=arg.arg if name != arg.arg else None,
            json_schema_extra={"position": position},
        )
        try:  # like Prefect: a type pydantic cannot put in a schema becomes Any
            _json_schema("CheckParameter", {name: (type_, field)})
        except Exception:
            type_ = Any
        schema_fields[name] = (type_, field)
        if not variadic:
            runtime_fields[arg.arg] = (type_, pydantic.Field(**given))
    defaults = {
        name: field.default
        for name, (_, field) in runtime_fields.items()
        if not field.is_required() and field.default_factory is None
    }
    return Signature(tuple(parameters), _payload(schema_fields), runtime_fields, defaults)


def _default(node: ast.expr | None, names: dict[str, object]) -> dict[str, Any]:
    """pydantic.Field arguments for a parameter's default."""
    if node is None:
        return {"default": ...}  # required
    value = default_value(node, names)
    if value is UNKNOWN:  # optional, but no "default" in the schema
        return {"default_factory": _unknown_default}
    return {"default": value}


def _payload(fields: dict[str, Any]) -> dict[str, Any]:
    """What Prefect sends: ParameterSchema(**schema).model_dump(exclude_unset=True)."""
    schema = _json_schema("Parameters", fields)
    result: dict[str, Any] = {"title": "Parameters", "type": "object"}
    result |= {key: schema[key] for key in ("properties", "required") if key in schema}
    if "$defs" in schema:
        result["definitions"] = schema["$defs"]
    return result


_PREFECT_RESERVED = {"v__args", "v__kwargs", "v__positional_only", "v__duplicate_kwargs"}


class _RuntimeBase(pydantic.BaseModel):
    """The base of Prefect's ValidatedFunction models (whose config a field cannot shadow)."""

    model_config: ClassVar[pydantic.ConfigDict] = pydantic.ConfigDict(
        arbitrary_types_allowed=True, extra="forbid"
    )


def runtime_model(function: str, fields: dict[str, Any]) -> type[pydantic.BaseModel]:
    """The model a flow validates its parameters with when a run starts.

    Like Prefect's ValidatedFunction (lax mode, parameters under their own names), which
    Prefect already builds when the flow is defined: if pydantic refuses it (a parameter
    named `model_config`, say), the flow cannot even be imported.
    """
    rejected = sorted(_PREFECT_RESERVED & fields.keys())
    if not rejected:
        try:
            return _model(f"{function.title()}Model", fields)
        except Exception:
            rejected = [name for name in fields if not _accepted(name, fields[name])]
    which = f"a parameter named {rejected[0]!r}" if rejected else "its parameters"
    raise SignatureError(
        f"Prefect cannot validate the parameters of '{function}' (it rejects {which}); rename"
        " the parameter or use @flow(validate_parameters=False)"
    )


def _accepted(name: str, field: Any) -> bool:
    try:
        _model("Check", {name: field})
    except Exception:
        return False
    return True


def _model(title: str, fields: dict[str, Any]) -> type[pydantic.BaseModel]:
    with warnings.catch_warnings():  # "field shadows an attribute in parent"
        warnings.simplefilter("ignore")
        return pydantic.create_model(title, __base__=_RuntimeBase, **fields)


def _arguments(args: ast.arguments) -> Iterator[tuple[ast.arg, inspect._ParameterKind, Any]]:
    """(arg, kind, default node or None) in Python's signature order."""
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    P = inspect.Parameter
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = P.POSITIONAL_ONLY if index < len(args.posonlyargs) else P.POSITIONAL_OR_KEYWORD
        yield arg, kind, default
    if args.vararg:
        yield args.vararg, P.VAR_POSITIONAL, None
    yield from (
        (a, P.KEYWORD_ONLY, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    )
    if args.kwarg:
        yield args.kwarg, P.VAR_KEYWORD, None


def _annotation(node: ast.expr | None, names: dict[str, object]) -> Any:
    try:
        value = Any if node is None else evaluate(node, names)
    except Unevaluable:
        return Any
    return Any if isinstance(value, ModuleRef) else value


def _json_schema(title: str, fields: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():  # e.g. "field conflicts with protected namespace"
        warnings.simplefilter("ignore")
        model = pydantic.create_model(
            title, __config__=pydantic.ConfigDict(arbitrary_types_allowed=True), **fields
        )
        return pydantic.TypeAdapter(model).json_schema(
            by_alias=True,
            ref_template="#/definitions/{model}",
            schema_generator=_EmptySchemaForUserClasses,
        )
