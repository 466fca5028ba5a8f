"""Checking run parameters against a flow, the way Prefect does when a run starts.

The Prefect server validates them against the deployment's parameter schema (jsonschema,
only with enforce_parameter_schema); the flow engine binds them to the function and
validates them with pydantic.
"""

from __future__ import annotations

import difflib
import inspect
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic.fields import FieldInfo

from flowfleet.flows.block_values import block_references, both, server_schema
from flowfleet.flows.messages import wrong_value, wrong_value_at
from flowfleet.flows.prefect_rules import installed_rules
from flowfleet.flows.types import Flow, Parameter

_VAR_POSITIONAL, _VAR_KEYWORD = inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
_VARIADIC = (_VAR_POSITIONAL, _VAR_KEYWORD)


@dataclass(frozen=True)
class ParameterProblem:
    """One thing wrong with the parameters given to a flow."""

    parameter: str | None  # the parameter the problem is about (None for whole-set problems)
    message: str
    missing: bool = field(default=False, compare=False)  # a required parameter not given


def check_parameters(
    flow: Flow,
    parameters: Mapping[str, Any],
    *,
    enforce_schema: bool,
    unchecked: Collection[str] = (),
) -> list[ParameterProblem]:
    """What Prefect would reject in `parameters` when a run of `flow` starts: unknown names,
    then missing required parameters, then wrong values (at most one problem per parameter).

    With `enforce_schema` the Prefect server first validates the parameters against the
    deployment's parameter_openapi_schema (jsonschema, Draft 2020-12); then, in every case,
    the flow itself validates them with pydantic in lax mode (a string "5" is an int).
    The values of the `unchecked` parameters are not known yet (an automation's templates,
    rendered when it fires): only their names are checked.
    """
    values = {name: _plain(value) for name, value in parameters.items()}
    declared = _parameters(flow)
    accepted = [p.name for p in declared]
    problems = [_unknown(flow, name, declared) for name in values if name not in accepted]
    given = [name for name in values if name in accepted]
    known = {name: values[name] for name in given if name not in unchecked}
    if enforce_schema:  # by name; before Prefect 3.9 the schema requires *args / **kwargs too
        required = [n for n in flow.parameter_schema.get("required", []) if n in accepted]
    else:  # Prefect binds named parameters given inside the **kwargs mapping too
        inside = _inside_kwargs(declared, known)
        required = [p.name for p in declared if p.required and p.name not in inside]
    problems += [_missing(flow, name, declared) for name in required if name not in given]
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
    return ParameterProblem(name, message, missing=True)


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
    errors = _variadic_errors(flow, declared, values)
    if errors:
        return errors
    values, errors = block_references(flow, values)
    if errors:
        return errors
    signature = flow._signature
    rules = signature.rules if signature is not None else installed_rules()
    try:
        bound = _bind(declared, values, positional_args=rules.variadic_defaults)
    except (TypeError, ValueError) as exc:  # what Python says about the call
        return {None: f"flow {flow.name!r} cannot be called with these parameters: {exc}"}
    if flow._model is None:
        return {}
    defaults = signature.defaults if signature is not None else {}
    defaulted = {name: value for name, value in defaults.items() if name not in bound}
    return _runtime_errors(flow, flow._model, values, {**defaulted, **bound}, set(defaulted))


def _variadic_errors(
    flow: Flow, declared: tuple[Parameter, ...], values: dict[str, Any]
) -> dict[str | None, str]:
    """`*args` Python cannot iterate, `**kwargs` it cannot unpack or that repeat a name."""
    errors: dict[str | None, str] = {}
    positional_only = {p.name for p in declared if p.kind == inspect.Parameter.POSITIONAL_ONLY}
    for parameter in declared:
        value = values.get(parameter.name)
        if parameter.name not in values:
            continue
        if parameter.kind == _VAR_POSITIONAL and not isinstance(value, str | list | dict):
            errors[parameter.name] = wrong_value(flow, parameter.name, "list", value)
        if parameter.kind == _VAR_KEYWORD and _as_kwargs(value) is None:
            errors[parameter.name] = wrong_value(flow, parameter.name, "mapping", value)
        if parameter.kind == _VAR_KEYWORD and isinstance(value, dict):  # Prefect's own guard
            twice = sorted(value.keys() & values.keys() - {parameter.name} - positional_only)
            if twice:
                errors[parameter.name] = (
                    f"parameter {parameter.name!r} of flow {flow.name!r}: {twice[0]!r} is given"
                    f" twice, by name and inside {parameter.name!r}"
                )
    return errors


def _bind(
    declared: tuple[Parameter, ...], values: dict[str, Any], *, positional_args: bool
) -> dict[str, Any]:
    """The arguments Prefect calls the flow function with (parameters_to_args_kwargs), minus
    the defaults it fills in.

    With `positional_args` (Prefect >= 3.9), a list given for `*args` is passed positionally:
    an empty one is dropped, otherwise the omitted positional parameters before it take their
    defaults. Raises TypeError as Python and Prefect do; missing parameters are reported before.
    """
    filled: set[str] = set()
    if positional_args:
        values, filled = _args_positionally(declared, values)
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
    bound = signature.bind_partial(*partial.args, **partial.kwargs).arguments
    return {name: value for name, value in bound.items() if name not in filled}


def _args_positionally(
    declared: tuple[Parameter, ...], values: dict[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """Prefect 3.9's rewrite of the run parameters when `*args` is given as a list: the new
    parameters, and the names of the defaulted ones it filled in (with placeholders here)."""
    star = next((p.name for p in declared if p.kind == _VAR_POSITIONAL), None)
    if star is None or not _iterable(values.get(star)):
        return values, set()
    if not values[star]:
        return {name: value for name, value in values.items() if name != star}, set()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    filled = {
        p.name: None
        for p in declared
        if p.kind in positional and not p.required and p.name not in values
    }
    return filled | values | {star: tuple(values[star])}, set(filled)


def _iterable(value: Any) -> bool:
    """prefect.utilities.collections.isiterable, minus mappings (as Prefect's rewrite)."""
    try:
        iter(value)
    except TypeError:
        return False
    return not isinstance(value, str | bytes | Mapping)


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

        schema = server_schema(flow.parameter_schema)
        # No format checker: the server's validate(raise_on_error=True) checks no formats.
        validator = Draft202012Validator(schema)
        flow._cache["validator"] = validator
    errors: dict[str | None, str] = {}
    for error in validator.iter_errors(values):
        path = list(error.absolute_path)
        if path and str(path[0]) not in errors:
            errors[str(path[0])] = wrong_value_at(flow, path, values) + both(error.instance)
    return errors


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
            if name in defaulted and isinstance(arguments[name], FieldInfo):
                note = (
                    " (its default: Prefect before 3.5 passes a Field(...) default to the flow"
                    " as it is; pass a value, or upgrade Prefect)"
                )
            elif name in defaulted:
                note = " (its default, which Prefect validates too: pass a value)"
            elif name not in values:  # given inside the **kwargs mapping: report it there
                name = next(p.name for p in _parameters(flow) if p.kind == _VAR_KEYWORD)
                label = f"{name}[{label!r}]"
            errors.setdefault(name, wrong_value_at(flow, loc, arguments, label) + note)
        return errors
    return {}
