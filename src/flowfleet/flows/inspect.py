"""Static inspection of Prefect flows: entrypoint → Flow, and parameters → problems.

Neither the flow's module nor prefect is imported (`import prefect` alone takes 1.6 s and
`flowfleet validate` must stay fast and must never run user code): the flow file is parsed
with `ast`. This module is the public API and resolves entrypoints; flow_source.py reads the
flow file, flow_schema.py builds its parameter schema and flow_parameters.py checks run
parameters.
"""

from __future__ import annotations

import ast
import difflib
import functools
import keyword
from pathlib import Path

from flowfleet.config.checks import shown
from flowfleet.errors import FlowfleetError
from flowfleet.flows.parameters import ParameterProblem, check_parameters
from flowfleet.flows.schema import SignatureError, build_signature, runtime_model
from flowfleet.flows.source import (
    UNKNOWN,
    SourceModule,
    constant_value,
    files_changed,
    flow_decorator,
    read_module,
)
from flowfleet.flows.types import Flow

__all__ = ["EntrypointError", "Flow", "ParameterProblem", "check_parameters", "inspect_flow"]

_BANNED_NAME_CHARACTERS = "/%&><"  # Prefect rejects flow names containing any of these


class EntrypointError(FlowfleetError):
    """The entrypoint cannot be used; str(exc) is a one-line user-facing message (no file:line
    prefix, the caller adds the config file position)."""


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
    found = _load_flow(str(path), stat.st_mtime_ns, stat.st_size, display, function, str(root))
    if isinstance(found, Flow) and files_changed(found._files):  # a module it imports changed
        read_module.cache_clear()
        _load_flow.cache_clear()
        found = _load_flow(str(path), stat.st_mtime_ns, stat.st_size, display, function, str(root))
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


def _module_file(root: Path, written: str, entrypoint: str) -> str:
    """The file of a `module.path:function` entrypoint (Prefect imports it), under the project
    folder or its `src/` folder, relative to the project folder."""
    parts = written.split(".")
    for base in ("", "src/"):
        for candidate in (f"{base}{'/'.join(parts)}.py", f"{base}{'/'.join(parts)}/__init__.py"):
            if (root / candidate).is_file():
                return candidate
    path = "/".join(parts)
    looked = f"{path}.py, {path}/__init__.py and the same under src/"
    raise EntrypointError(
        f"entrypoint {entrypoint!r} names module {written!r}, which is not a file under the"
        f" project folder (looked for {looked}); write the path of the flow file,"
        " e.g. 'flows/etl.py:my_flow'"
    )


def _locate(root: Path, written: str, entrypoint: str) -> tuple[Path, str]:
    """The resolved flow file and its path relative to the project folder."""
    if _is_module(written):
        written = _module_file(root, written, entrypoint)
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
        raise EntrypointError(
            f"cannot resolve {shown(written)}: {exc}; point the entrypoint at the flow file"
            " itself, or fix the symlink"
        ) from None
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
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise EntrypointError(
            f"cannot read flow file {shown(written)}: {exc.strerror}; expected PATH.py:FUNCTION"
            " with the path of the Python file that defines the flow"
        ) from None
    if is_dir:
        raise EntrypointError(f"flow file {written!r} is a folder, not a file")
    if not is_file:
        raise EntrypointError(f"flow file {written!r} does not exist{_nearby(path, written, base)}")
    return path, path.relative_to(base).as_posix()


def _is_module(written: str) -> bool:
    """`package.module` (dotted names, no `.py`), as Prefect accepts in entrypoints."""
    parts = written.split(".")
    return parts[-1] != "py" and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


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


@functools.lru_cache(maxsize=4096)
def _load_flow(
    path: str, mtime_ns: int, size: int, display: str, function: str, root: str
) -> Flow | str:
    module = read_module(path, mtime_ns, size, display, str(Path(root).resolve()))
    if isinstance(module, str):
        return module
    try:
        return _flow(module, display, function)
    except EntrypointError as exc:
        return str(exc)


def _flow(module: SourceModule, display: str, function: str) -> Flow:
    func = module.functions.get(function)
    if func is None:
        raise EntrypointError(_no_function(module, display, function))
    where = f"{display} line {func.lineno}"
    decorator = flow_decorator(func, module.names)
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
    name = _flow_name(options, function, where, module.names)
    try:
        signature = build_signature(func, module.names, ast.get_docstring(func, clean=False))
        validates = _literal_option(options, "validate_parameters") is not False
        model = runtime_model(function, signature.fields) if validates else None
    except SignatureError as exc:
        raise EntrypointError(f"{where}: {exc}") from None
    return Flow(name, function, signature.schema, signature, model, _files=module.files)


def _no_function(module: SourceModule, display: str, function: str) -> str:
    message = f"{display} has no top-level function {shown(function)}"
    close = (
        difflib.get_close_matches(function, list(module.functions), n=1)
        if len(function) < 200
        else []
    )
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if module.functions:
        return f"{message}; it defines: {', '.join(module.functions)}"
    return f"{message}; it defines no top-level functions"


def _flow_name(
    options: list[ast.keyword], function: str, where: str, names: dict[str, object]
) -> str:
    """The `name=` of the decorator (a constant expression: a literal, a module constant, an
    f-string or `+` of those), else Prefect's default from the function name."""
    default = function.replace("_", "-")  # exactly Prefect 3: fn.__name__.replace("_", "-")
    given = next((o.value for o in options if o.arg == "name"), None)
    if given is None and any(o.arg is None for o in options):
        raise EntrypointError(
            f"{where}: @flow(**...) of '{function}' may set the flow name; flowfleet reads"
            ' flows without running them, so it needs a literal name="..." next to it'
        )
    if given is None:
        return default
    value = constant_value(given, names)
    if value is UNKNOWN or not isinstance(value, str | None):
        raise EntrypointError(
            f"{where}: the flow name of '{function}' is {_short(given)}, which flowfleet cannot"
            " know without running code; write it as a string (a literal, a module-level"
            ' NAME = "..." constant, or an f-string or + of those): name="..."'
        )
    name = value or default  # like Prefect: an empty name means the default
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
