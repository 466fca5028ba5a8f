"""A flow's parameter schema, built from its source code without importing its module.

The annotations and defaults are evaluated statically (see flow_source.py); the schema itself
is then made exactly as Prefect makes it: pydantic `create_model` +
`TypeAdapter(...).json_schema(...)`.

Where the result differs from what `prefect deploy` (which imports the flow) sends:
- types outside the whitelist and the project's own data classes (pandas, ...) are `Any`;
  Prefect's block types (and other models of prefect.blocks / collections) are read from
  the installed package, once per installed versions (blocks.py);
- `Annotated[...]` metadata such as `Field(ge=1)` is dropped;
- a default that is not a literal, an enum member or a whitelisted constructor called with
  literals (`date(2024, 1, 1)`) is unknown: optional, but no "default" in the schema;
- with Prefect < 3.9 (before 3.8.9.dev6), annotations of `*args` / `**kwargs` are ignored,
  as that Prefect's own source reader does (`prefect deploy`, which imports the flow, uses
  them); since then both readers make them `list[T]` / `dict[str, T]`.

The installed Prefect's rules apply (prefect_rules.py): `*args` / `**kwargs` are required
before Prefect 3.9 and optional (defaults `[]` / `{}`) since.
"""

from __future__ import annotations

import ast
import inspect
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined

from flowfleet.flows import blocks
from flowfleet.flows.docstrings import parameter_docs
from flowfleet.flows.prefect_rules import PrefectRules, installed_rules
from flowfleet.flows.source import (
    UNKNOWN,
    FunctionNode,
    ModuleRef,
    Unevaluable,
    default_value,
    evaluate_annotation,
    foreign_names,
)
from flowfleet.flows.types import Parameter, Signature

if TYPE_CHECKING:
    from pydantic_core import core_schema


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

    Made the way the installed Prefect's generate_parameter_schema makes it, field by field.
    """
    rules = installed_rules()
    docs = parameter_docs(doc)
    schema_fields: dict[str, Any] = {}
    runtime_fields: dict[str, Any] = {}
    parameters: list[Parameter] = []
    libraries: dict[str, str] = {}
    mentioned = [f for a, _, _ in _arguments(func.args) for f in foreign_names(a.annotation, names)]
    blocks.prefetch([(f.module, f.name) for f in mentioned])
    for position, (arg, kind, default) in enumerate(_arguments(func.args)):
        if arg.arg in ("self", "cls"):
            continue  # like Prefect: passed implicitly, not flow parameters (keeps positions)
        _check_name(arg.arg)
        variadic = kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        description, extra = docs.get(arg.arg), {"position": position}
        library = _library(arg.annotation, names)
        if library is not None:
            libraries[arg.arg] = library
        if variadic:
            type_, given = _variadic(kind, arg.annotation, names, rules)
        else:
            type_, given = _annotation(arg.annotation, names), _default(default, names)
            if rules.field_defaults and isinstance(given.get("default"), FieldInfo):
                given, description, extra = _field_default(given["default"], description, extra)
        name, type_, field = _schema_field(arg.arg, type_, given, description, extra)
        schema_fields[name] = (type_, field)
        required = not variadic and given.get("default") is Ellipsis
        parameters.append(Parameter(arg.arg, kind, required=required))
        if not variadic:
            runtime_fields[arg.arg] = (type_, pydantic.Field(**given))
    schema = _payload(schema_fields)
    defaults = _known_defaults(runtime_fields)
    return Signature(tuple(parameters), schema, runtime_fields, defaults, rules, libraries)


def _variadic(
    kind: inspect._ParameterKind,
    node: ast.expr | None,
    names: dict[str, object],
    rules: PrefectRules,
) -> tuple[Any, dict[str, Any]]:
    """The schema type and pydantic.Field arguments of `*args` / `**kwargs`."""
    if not rules.variadic_defaults:  # required; the source reader ignores the annotation
        return Any, {"default": ...}
    item = _annotation(node, names)
    if kind == inspect.Parameter.VAR_POSITIONAL:
        return list[item], {"default": []}  # type: ignore[valid-type]
    return dict[str, item], {"default": {}}  # type: ignore[valid-type]


def _field_default(
    field: FieldInfo, description: str | None, extra: dict[str, Any]
) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """A `= Field(...)` default as Prefect >= 3.5 takes it (process_v2_params): its default,
    its description over the docstring's, its json_schema_extra (position kept)."""
    given = {"default": ... if field.default is PydanticUndefined else field.default}
    if isinstance(field.json_schema_extra, dict):
        extra = {**extra, **field.json_schema_extra}  # Prefect: extra.setdefault("position")
    return given, field.description or description, extra


def _check_name(name: str) -> None:
    if name.startswith("_"):
        raise SignatureError(
            f"parameter '{name}' starts with an underscore, which Prefect cannot put "
            "in a parameter schema (pydantic rejects such field names); rename it"
        )


def _schema_field(
    parameter: str,
    type_: Any,
    given: dict[str, Any],
    description: str | None,
    extra: dict[str, Any],
) -> tuple[str, Any, Any]:
    """The field name, type and pydantic field of `parameter` in the parameter schema."""
    # Prefect renames parameters that clash with BaseModel attributes, aliasing them back.
    name = f"{parameter}__" if hasattr(pydantic.BaseModel, parameter) else parameter
    field: Any = pydantic.Field(
        **given,
        title=parameter,
        description=description,
        alias=parameter if name != parameter else None,
        json_schema_extra=extra,
    )
    try:  # like Prefect: a type pydantic cannot put in a schema becomes Any
        _json_schema("CheckParameter", {name: (type_, field)})
    except Exception:
        type_ = Any
    return name, type_, field


def _known_defaults(runtime_fields: dict[str, Any]) -> dict[str, Any]:
    return {
        name: field.default
        for name, (_, field) in runtime_fields.items()
        if not field.is_required() and field.default_factory is None
    }


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
        result["definitions"] = _with_nested(schema["$defs"])
    unmarked: dict[str, Any] = blocks.unmark(result)
    return unmarked


def _with_nested(definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions, plus those that the stand-ins of Prefect's classes refer to (pydantic
    sorts definitions by name; so does this)."""
    merged = dict(definitions)
    for definition in definitions.values():
        for name, nested in blocks.nested_definitions(definition).items():
            merged.setdefault(name, nested)
    return dict(sorted(merged.items()))


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
        value = Any if node is None else evaluate_annotation(node, names)
    except Unevaluable:
        return Any
    return Any if isinstance(value, ModuleRef) else value


def _library(node: ast.expr | None, names: dict[str, object]) -> str | None:
    """The installed library an annotation needs, if that is why it cannot be evaluated."""
    try:
        if node is not None:
            evaluate_annotation(node, names)
    except Unevaluable as exc:
        return exc.library
    return None


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
