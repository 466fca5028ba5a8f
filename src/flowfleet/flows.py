"""Static inspection of Prefect flows: entrypoint → Flow, and parameters → problems.

Neither the flow's module nor prefect is imported (`import prefect` alone takes 1.6 s and
`flowfleet validate` must stay fast and must never run user code): the flow file is parsed
with `ast`, see flow_schema.py for how its parameter schema is built.
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import keyword
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from flowfleet.errors import FlowfleetError
from flowfleet.flow_schema import (
    FLOW_DECORATOR,
    FunctionNode,
    Parameter,
    Signature,
    SignatureError,
    Unevaluable,
    build_signature,
    evaluate,
    module_names,
    runtime_model,
)

_BANNED_NAME_CHARACTERS = "/%&><"  # Prefect rejects flow names containing any of these
_VAR_POSITIONAL, _VAR_KEYWORD = inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
_VARIADIC = (_VAR_POSITIONAL, _VAR_KEYWORD)


@dataclass(frozen=True)
class Flow:
    """A Prefect flow, as read from its source file."""

    name: str
    function: str
    parameter_schema: dict[str, Any] = field(hash=False)  # never mutate: shared by a cache
    _signature: Signature | None = field(default=None, repr=False, compare=False, hash=False)
    # The model the flow validates run parameters with (None: `validate_parameters=False`).
    _model: type[pydantic.BaseModel] | None = field(
        default=None, repr=False, compare=False, hash=False
    )
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)


class EntrypointError(FlowfleetError):
    """The entrypoint cannot be used; str(exc) is a one-line user-facing message (no file:line
    prefix, the caller adds the config file position)."""


@dataclass(frozen=True)
class ParameterProblem:
    """One thing wrong with the parameters given to a flow."""

    parameter: str | None  # the parameter the problem is about (None for whole-set problems)
    message: str


def inspect_flow(root: Path, entrypoint: str) -> Flow:
    """The flow at `entrypoint` (`path/to/file.py:function`, relative to the project folder
    `root`), read without importing it; raises EntrypointError when it cannot be used.

    Each file is parsed once per modification (results are cached on path, mtime and size).
    """
    written, function = _split(entrypoint)
    path, display = _locate(root, written, entrypoint)
    try:
        stat = path.stat()
    except OSError as exc:
        raise EntrypointError(f"cannot read {display}: {exc.strerror}") from None
    found = _load_flow(str(path), stat.st_mtime_ns, stat.st_size, display, function)
    if isinstance(found, str):
        raise EntrypointError(" ".join(found.splitlines()))  # one line, whatever Python said
    return found


def _split(entrypoint: str) -> tuple[str, str]:
    written, colon, function = entrypoint.rpartition(":")
    shape = "expected PATH.py:FUNCTION, e.g. 'flows/etl.py:my_flow'"
    if not colon:
        raise EntrypointError(f"entrypoint {entrypoint!r} has no ':FUNCTION' part; {shape}")
    if not written.strip():
        raise EntrypointError(f"entrypoint {entrypoint!r} names no file before ':'; {shape}")
    if not function:
        raise EntrypointError(
            f"entrypoint {entrypoint!r} names no function after ':'; {shape}"
            f" (add the name of the flow function: '{written}:my_flow')"
        )
    if not function.isidentifier() or keyword.iskeyword(function):
        raise EntrypointError(
            f"entrypoint {entrypoint!r}: {function!r} is not a Python function name; {shape}"
        )
    return written, function


def _locate(root: Path, written: str, entrypoint: str) -> tuple[Path, str]:
    """The resolved flow file and its path relative to the project folder."""
    relative = Path(written)
    if relative.is_absolute():
        raise EntrypointError(
            f"entrypoint {entrypoint!r} uses an absolute path; write the path relative to the"
            " project folder (the folder of the config file)"
        )
    try:
        base = root.resolve()
        path = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise EntrypointError(f"cannot resolve {written!r}: {exc}") from None
    if not path.is_relative_to(base):
        raise EntrypointError(
            f"entrypoint {entrypoint!r} leaves the project folder: {written!r} resolves to"
            f" {path}, outside {base}; keep flow files inside the project folder"
        )
    if relative.suffix != ".py":
        raise EntrypointError(
            f"entrypoint {entrypoint!r}: {written!r} is not a .py file; expected PATH.py:FUNCTION"
            " with the path of the Python file that defines the flow"
        )
    if path.is_dir():
        raise EntrypointError(f"flow file {written!r} is a folder, not a file")
    if not path.is_file():
        raise EntrypointError(f"flow file {written!r} does not exist{_nearby(path, written, base)}")
    return path, path.relative_to(base).as_posix()


def _nearby(path: Path, written: str, base: Path) -> str:
    """A did-you-mean among the .py files next to a missing flow file."""
    try:
        siblings = [p.name for p in path.parent.glob("*.py") if p.is_file()]
    except OSError:
        siblings = []
    close = difflib.get_close_matches(path.name, siblings, n=1)
    if close:
        return f"; did you mean {(Path(written).parent / close[0]).as_posix()!r}?"
    return f" (entrypoint paths are relative to the project folder {base})"


@dataclass(frozen=True)
class _Module:
    functions: dict[str, FunctionNode]  # top-level functions; the last definition wins
    names: dict[str, object]


@functools.lru_cache(maxsize=256)
def _load_module(path: str, mtime_ns: int, size: int, display: str) -> _Module | str:
    """The parsed flow file, or why it cannot be parsed (cached: failures are cheap to repeat)."""
    try:
        data = Path(path).read_bytes()
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
    return _Module(functions, module_names(tree))


@functools.lru_cache(maxsize=4096)
def _load_flow(path: str, mtime_ns: int, size: int, display: str, function: str) -> Flow | str:
    module = _load_module(path, mtime_ns, size, display)
    if isinstance(module, str):
        return module
    try:
        return _flow(module, display, function)
    except EntrypointError as exc:
        return str(exc)


def _flow(module: _Module, display: str, function: str) -> Flow:
    func = module.functions.get(function)
    if func is None:
        raise EntrypointError(_no_function(module, display, function))
    where = f"{display} line {func.lineno}"
    decorator = _flow_decorator(func, module.names)
    if decorator is None:
        found = ", ".join(f"@{_short(d)}" for d in func.decorator_list) or "none"
        raise EntrypointError(
            f"{where}: function '{function}' is not a Prefect flow (decorators: {found});"
            " decorate it with @flow (from prefect import flow)"
        )
    options = decorator.keywords if isinstance(decorator, ast.Call) else []
    if isinstance(decorator, ast.Call) and decorator.args:
        raise EntrypointError(
            f"{where}: @flow of '{function}' is given a positional argument; pass options"
            ' by keyword, e.g. @flow(name="...")'
        )
    name = _flow_name(options, function, where)
    try:
        signature = build_signature(func, module.names, ast.get_docstring(func, clean=False))
        validates = _literal_option(options, "validate_parameters") is not False
        model = runtime_model(function, signature.fields) if validates else None
    except SignatureError as exc:
        raise EntrypointError(f"{where}: {exc}") from None
    return Flow(name, function, signature.schema, signature, model)


def _no_function(module: _Module, display: str, function: str) -> str:
    message = f"{display} has no top-level function '{function}'"
    close = difflib.get_close_matches(function, list(module.functions), n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if module.functions:
        return f"{message}; it defines: {', '.join(module.functions)}"
    return f"{message}; it defines no top-level functions"


def _flow_decorator(func: FunctionNode, names: dict[str, object]) -> ast.expr | None:
    """The `@flow` / `@flow(...)` / `@prefect.flow` / aliased decorator of `func`, if any."""
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        try:
            if evaluate(target, names) is FLOW_DECORATOR:
                return decorator
        except Unevaluable:
            continue
    return None


def _flow_name(options: list[ast.keyword], function: str, where: str) -> str:
    """The literal `name=` of the decorator, else Prefect's default from the function name."""
    default = function.replace("_", "-")  # exactly Prefect 3: fn.__name__.replace("_", "-")
    given = next((o.value for o in options if o.arg == "name"), None)
    if given is None and any(o.arg is None for o in options):
        raise EntrypointError(
            f"{where}: @flow(**...) of '{function}' may set the flow name; flowfleet reads"
            ' flows without running them, so it needs a literal name="..." next to it'
        )
    if given is None:
        return default
    if not isinstance(given, ast.Constant) or not isinstance(given.value, str | None):
        raise EntrypointError(
            f"{where}: the flow name of '{function}' is {_short(given)}, not a string literal;"
            ' flowfleet reads flows without running them, so it needs a literal name="..."'
        )
    name = given.value or default  # like Prefect: an empty name means the default
    bad = sorted({c for c in name if c in _BANNED_NAME_CHARACTERS})
    if bad:
        raise EntrypointError(
            f"{where}: flow name {name!r} contains {' '.join(bad)}; Prefect rejects flow names"
            f" containing any of {' '.join(_BANNED_NAME_CHARACTERS)}"
        )
    return name


def _literal_option(options: list[ast.keyword], name: str) -> object:
    value = next((o.value for o in options if o.arg == name), None)
    return value.value if isinstance(value, ast.Constant) else None


def _short(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- Parameters ---------------------------------------------------------------------------


def check_parameters(
    flow: Flow, parameters: Mapping[str, Any], *, enforce_schema: bool
) -> list[ParameterProblem]:
    """What Prefect would reject in `parameters` when a run of `flow` starts: unknown names,
    then missing required parameters, then wrong values (at most one problem per parameter).

    With `enforce_schema` the Prefect server first validates the parameters against the
    deployment's parameter_openapi_schema (jsonschema, Draft 2020-12); then, in every case,
    the flow itself validates them with pydantic in lax mode (a string "5" is an int).
    """
    values = {name: _plain(value) for name, value in parameters.items()}
    declared = _parameters(flow)
    accepted = [p.name for p in declared]
    problems = [_unknown(flow, name, declared) for name in values if name not in accepted]
    known = {name: value for name, value in values.items() if name in accepted}
    if enforce_schema:  # the server's schema also requires *args / **kwargs, and by name
        required = [n for n in flow.parameter_schema.get("required", []) if n in accepted]
    else:  # Prefect binds named parameters given inside the **kwargs mapping too
        inside = _inside_kwargs(declared, known)
        required = [p.name for p in declared if p.required and p.name not in inside]
    problems += [_missing(flow, name, declared) for name in required if name not in known]
    wrong = _run_start_errors(flow, declared, known)
    if enforce_schema or flow._signature is None:
        wrong = _schema_errors(flow, known) | wrong
    problems += [ParameterProblem(name, wrong[name]) for name in accepted if name in wrong]
    if None in wrong:
        problems.append(ParameterProblem(None, wrong[None]))
    return problems


def _parameters(flow: Flow) -> tuple[Parameter, ...]:
    if flow._signature is not None:
        return flow._signature.parameters
    # A Flow made by hand from a schema alone: every property is a keyword parameter.
    properties: dict[str, Any] = flow.parameter_schema.get("properties", {})
    required = set(flow.parameter_schema.get("required", []))
    order = sorted(properties, key=lambda name: properties[name].get("position", 0))
    kind = inspect.Parameter.KEYWORD_ONLY
    return tuple(Parameter(name, kind, name in required) for name in order)


def _plain(value: Any) -> Any:
    """The JSON value Prefect would send (YAML numbers are int/float subclasses)."""
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _unknown(flow: Flow, name: str, declared: tuple[Parameter, ...]) -> ParameterProblem:
    accepted = [p.name for p in declared]
    message = f"unknown parameter {name!r} for flow {flow.name!r}"
    close = difflib.get_close_matches(name, accepted, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif accepted:
        message += f"; flow {flow.name!r} takes: {', '.join(accepted)}"
    else:
        message += f"; flow {flow.name!r} takes no parameters"
    # Prefect binds run parameters by name only: extras must go inside the **kwargs dict.
    extra = next((p.name for p in declared if p.kind == _VAR_KEYWORD), None)
    if extra is not None:
        message += f" (extra keyword arguments go inside {extra!r})"
    return ParameterProblem(name, message)


def _missing(flow: Flow, name: str, declared: tuple[Parameter, ...]) -> ParameterProblem:
    message = f"missing required parameter {name!r} of flow {flow.name!r}"
    kind = next(p.kind for p in declared if p.name == name)
    if kind in (_VAR_POSITIONAL, _VAR_KEYWORD):
        empty = "[]" if kind == _VAR_POSITIONAL else "{}"
        message += (
            f" (with enforce_parameter_schema the Prefect server requires it; pass {name}: {empty})"
        )
    return ParameterProblem(name, message)


def _inside_kwargs(declared: tuple[Parameter, ...], values: dict[str, Any]) -> dict[str, Any]:
    """Named parameters given inside the **kwargs mapping (Python binds them by name)."""
    extra = next((p.name for p in declared if p.kind == _VAR_KEYWORD), None)
    inside = _as_kwargs(values[extra]) if extra in values else None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = {p.name for p in declared if p.kind in kinds}
    return {name: value for name, value in (inside or {}).items() if name in named}


def _as_kwargs(value: Any) -> dict[str, Any] | None:
    """What `**value` passes, or None if Python refuses it (dict.update semantics)."""
    result: dict[Any, Any] = {}
    try:
        result.update(value)
    except (TypeError, ValueError):
        return None
    return result if all(isinstance(key, str) for key in result) else None


def _run_start_errors(
    flow: Flow, declared: tuple[Parameter, ...], values: dict[str, Any]
) -> dict[str | None, str]:
    """What the flow engine rejects when the run starts (flow_engine._flow_parameters).

    The parameters are bound to the function as Python binds them (unless `*args` is given
    as something Python cannot iterate, or `**kwargs` as something it cannot unpack), the
    defaults are added, and (unless `validate_parameters=False`) the result is validated
    with pydantic in lax mode: a default that does not match its annotation fails too.
    """
    errors: dict[str | None, str] = {}
    positional_only = {p.name for p in declared if p.kind == inspect.Parameter.POSITIONAL_ONLY}
    for parameter in declared:
        value = values.get(parameter.name)
        if parameter.name not in values:
            continue
        if parameter.kind == _VAR_POSITIONAL and not isinstance(value, str | list | dict):
            errors[parameter.name] = _wrong(flow, parameter.name, "list", value)
        if parameter.kind == _VAR_KEYWORD and _as_kwargs(value) is None:
            errors[parameter.name] = _wrong(flow, parameter.name, "mapping", value)
        if parameter.kind == _VAR_KEYWORD and isinstance(value, dict):  # Prefect's own guard
            twice = sorted(value.keys() & values.keys() - {parameter.name} - positional_only)
            if twice:
                errors[parameter.name] = (
                    f"parameter {parameter.name!r} of flow {flow.name!r}: {twice[0]!r} is given"
                    f" twice, by name and inside {parameter.name!r}"
                )
    if errors:
        return errors
    try:
        bound = _bind(declared, values)
    except (TypeError, ValueError) as exc:  # what Python says about the call
        return {None: f"flow {flow.name!r} cannot be called with these parameters: {exc}"}
    if flow._model is None:
        return {}
    defaults = flow._signature.defaults if flow._signature is not None else {}
    defaulted = {name: value for name, value in defaults.items() if name not in bound}
    return _runtime_errors(flow, flow._model, values, {**defaulted, **bound}, set(defaulted))


def _bind(declared: tuple[Parameter, ...], values: dict[str, Any]) -> dict[str, Any]:
    """The arguments Prefect calls the flow function with (parameters_to_args_kwargs).

    Raises TypeError as Python and Prefect do; missing parameters are reported before.
    """
    P = inspect.Parameter
    signature = inspect.Signature(
        [
            P(p.name, p.kind, default=P.empty if p.required or p.kind in _VARIADIC else None)
            for p in declared
        ]
    )
    rewritten = signature  # defaulted positional parameters are passed by keyword
    if not any(p.kind == _VAR_POSITIONAL for p in declared):
        keyword = [
            p.replace(kind=P.KEYWORD_ONLY) if _defaulted(p) else p
            for p in signature.parameters.values()
        ]
        rewritten = signature.replace(parameters=keyword)
    partial = rewritten.bind_partial()
    partial.arguments = OrderedDict(values)
    return dict(signature.bind_partial(*partial.args, **partial.kwargs).arguments)


def _defaulted(parameter: inspect.Parameter) -> bool:
    return (
        parameter.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
        and parameter.default is not inspect.Parameter.empty
    )


def _schema_errors(flow: Flow, values: dict[str, Any]) -> dict[str | None, str]:
    """The Prefect server's check (prefect.utilities.schema_tools.validation.validate)."""
    validator = flow._cache.get("validator")
    if validator is None:
        from jsonschema import Draft202012Validator  # lazily: only needed with enforcement

        schema = _server_schema(flow.parameter_schema)
        # No format checker: the server's validate(raise_on_error=True) checks no formats.
        validator = Draft202012Validator(schema)
        flow._cache["validator"] = validator
    errors: dict[str | None, str] = {}
    for error in validator.iter_errors(values):
        path = list(error.absolute_path)
        if path and str(path[0]) not in errors:
            errors[str(path[0])] = _wrong_at(flow, path, values)
    return errors


def _server_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Prefect's preprocess_schema, minus `required` (missing parameters are reported by name).

    An optional parameter with a type and no default also accepts null. (Prefect also rewrites
    nested models and pydantic v1 tuples, which flowfleet's schemas never contain.)
    """
    required = schema.get("required", [])
    properties: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in required and "default" not in prop and prop.get("type", "null") != "null":
            prop = {k: v for k, v in prop.items() if k != "type"}
            prop["anyOf"] = [{"type": schema["properties"][name]["type"]}, {"type": "null"}]
        properties[name] = prop
    return {**{k: v for k, v in schema.items() if k != "required"}, "properties": properties}


def _runtime_errors(
    flow: Flow,
    model: type[pydantic.BaseModel],
    values: dict[str, Any],
    arguments: dict[str, Any],
    defaulted: set[str],
) -> dict[str | None, str]:
    """pydantic's verdict on the bound arguments, by the parameter the user would change."""
    try:  # *args / **kwargs are not fields: Prefect passes them around the model
        model.model_validate({k: v for k, v in arguments.items() if k in model.model_fields})
    except pydantic.ValidationError as exc:
        errors: dict[str | None, str] = {}
        for error in exc.errors(include_url=False):
            loc = list(error["loc"])
            if len(loc) == 1 and error["type"] == "missing":
                continue  # missing parameters are reported by name, before
            if "[key]" in loc:  # a mapping key failed: point at the mapping
                loc = loc[: loc.index("[key]") - 1]
            name = label = str(loc[0])
            note = ""
            if name in defaulted:
                note = " (its default, which Prefect validates too: pass a value)"
            elif name not in values:  # given inside the **kwargs mapping: report it there
                name = next(p.name for p in _parameters(flow) if p.kind == _VAR_KEYWORD)
                label = f"{name}[{label!r}]"
            errors.setdefault(name, _wrong_at(flow, loc, arguments, label) + note)
        return errors
    return {}


def _wrong_at(flow: Flow, path: list[Any], values: dict[str, Any], label: str = "") -> str:
    """The message for a wrong value at `path` (parameter name first, then items/keys)."""
    definitions = flow.parameter_schema.get("definitions", {})
    name = str(path[0])
    schema = flow.parameter_schema["properties"][name]
    value, where = values[name], label or name
    for step in path[1:]:
        schema = _resolve(schema, definitions)
        if "anyOf" in schema or "oneOf" in schema:
            break  # describe the whole union rather than guess which member was meant
        inner = _inner_schema(schema, step, value)
        if inner is None:
            break
        schema, value = inner, value[step]
        where += f"[{step}]" if isinstance(step, int) else f"[{step!r}]"
    return _wrong(flow, where, _describe(schema, definitions), value)


def _inner_schema(schema: dict[str, Any], step: Any, value: Any) -> dict[str, Any] | None:
    inner: Any = None
    if isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
        prefix = schema.get("prefixItems", [])
        inner = prefix[step] if step < len(prefix) else schema.get("items")
    elif isinstance(step, str) and isinstance(value, dict) and step in value:
        inner = schema.get("properties", {}).get(step, schema.get("additionalProperties"))
    return inner if isinstance(inner, dict) else None


def _wrong(flow: Flow, where: str, expected: str, value: Any) -> str:
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
