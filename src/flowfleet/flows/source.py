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
import functools
import pathlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from flowfleet.flows.classes import build_class
from flowfleet.flows.evaluate import (
    FIELD,
    FLOW_DECORATOR,
    UNKNOWN,
    Constant,
    Foreign,
    FunctionNode,
    ModuleRef,
    ProjectModule,
    Unevaluable,
    attribute,
    constant_value,
    default_value,
    evaluate,
    evaluate_annotation,
    foreign_names,
    is_whitelisted,
    safe_names,
)

__all__ = [
    "FIELD",
    "FLOW_DECORATOR",
    "UNKNOWN",
    "Foreign",
    "FunctionNode",
    "ModuleRef",
    "SourceModule",
    "Unevaluable",
    "constant_value",
    "default_value",
    "evaluate",
    "evaluate_annotation",
    "flow_decorator",
    "foreign_names",
    "module_names",
    "read_module",
]


def module_names(tree: ast.Module, importer: _Importer | None = None) -> dict[str, object]:
    """What each module-level name is bound to, as far as it can be known statically; the
    project's own modules are read through `importer` (None: every import is foreign)."""
    # Unbound `flow` / `prefect` count as Prefect's (e.g. after `from prefect import *`).
    names: dict[str, object] = {"flow": FLOW_DECORATOR, "prefect": ModuleRef("prefect")}
    names |= safe_names("builtins")
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.partition(".")[0]] = _imported(alias, importer)
        elif isinstance(node, ast.ImportFrom):
            names |= _imported_from(node, importer)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            single = len(targets) == 1 and isinstance(targets[0], ast.Name)
            value = _assigned(node.value, names) if single else UNKNOWN
            names |= {name: value for target in targets for name in _target_names(target)}
        elif isinstance(node, ast.AugAssign):
            names |= {name: UNKNOWN for name in _target_names(node.target)}
        elif isinstance(node, ast.ClassDef):
            names[node.name] = build_class(node, names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = UNKNOWN
    return names


def _imported(alias: ast.alias, importer: _Importer | None) -> object:
    """What `import a.b [as c]` binds."""
    top = alias.name.partition(".")[0]
    bound = alias.name if alias.asname else top
    if is_whitelisted(top) or importer is None:
        return ModuleRef(bound)
    found = importer(bound, 0)
    return found if found is not None else ModuleRef(bound)


def _imported_from(node: ast.ImportFrom, importer: _Importer | None) -> dict[str, object]:
    """What `from module import a, b as c` binds: names of the project's own modules are
    read from their source, those of whitelisted modules are known, the rest is foreign."""
    module = node.module or ""
    found = None
    if importer is not None and (node.level or not is_whitelisted(module.partition(".")[0])):
        found = importer(module, node.level)
    if found is None and node.level:
        return {alias.asname or alias.name: UNKNOWN for alias in node.names if alias.name != "*"}
    if found is not None:
        if any(alias.name == "*" for alias in node.names):
            return {k: v for k, v in found.names.items() if not k.startswith("_")}
        return {alias.asname or alias.name: found.attribute(alias.name) for alias in node.names}
    if any(alias.name == "*" for alias in node.names):
        return dict(safe_names(module))
    return {alias.asname or alias.name: attribute(module, alias.name) for alias in node.names}


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


def _assigned(node: ast.expr, names: dict[str, object]) -> object:
    """What `NAME = value` binds: a constant (`"x"`, `f"{BASE}-x"`), a type alias
    (`Mode = Literal["a", "b"]`), a default-like value (`Color.RED`), else UNKNOWN."""
    value = constant_value(node, names)
    if value is not UNKNOWN:
        return Constant(value)
    try:
        return evaluate(node, names)
    except Unevaluable as exc:
        if exc.library is not None and isinstance(node, ast.Name | ast.Attribute):
            return Foreign(exc.library, ast.unparse(node))
    value = default_value(node, names)
    return UNKNOWN if value is UNKNOWN else Constant(value)


# --- The flow file ----------------------------------------------------------------------


Stamp = tuple[str, int, int]  # a file read, as (path, mtime_ns, size)


@dataclass(frozen=True)
class SourceModule:
    """A parsed flow file: its top-level functions and module-level names."""

    functions: dict[str, FunctionNode]  # top-level functions; the last definition wins
    names: dict[str, object]
    files: tuple[Stamp, ...] = field(default=(), compare=False)  # project modules it read


@functools.lru_cache(maxsize=256)
def read_module(
    path: str, mtime_ns: int, size: int, display: str, root: str | None = None
) -> SourceModule | str:
    """The parsed flow file, or why it cannot be parsed (cached: failures are cheap to repeat).

    With `root` (the project folder), the modules of the project it imports are read too.
    """
    tree = _parse(path, display)
    if isinstance(tree, str):
        return tree
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    importer = _Importer(pathlib.Path(root), pathlib.Path(path)) if root is not None else None
    names = module_names(tree, importer)
    return SourceModule(functions, names, tuple(importer.files) if importer else ())


def _parse(path: str, display: str) -> ast.Module | str:
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
        return ast.parse(text, filename=display)
    except SyntaxError as exc:  # null bytes: SyntaxError without a line (ValueError < 3.11.4)
        return f"{display} line {exc.lineno}: {exc.msg}" if exc.lineno else f"{display}: {exc.msg}"
    except ValueError as exc:
        return f"{display}: {exc}"
    except (RecursionError, MemoryError):
        return f"{display}: too deeply nested for Python to parse"


_READING = threading.local()  # the project modules being read (an import cycle stops there)


class _Importer:
    """Finds the project's own modules that a file imports, and reads them from source.

    Looked up as Python would find them when Prefect loads the flow: next to the file, in
    the folder above it, in the project folder and in its `src/` folder.
    """

    def __init__(self, root: pathlib.Path, path: pathlib.Path) -> None:
        self.root, self.path = root.resolve(), path
        self.files: list[Stamp] = []

    def __call__(self, module: str, level: int) -> ProjectModule | None:
        parts = module.split(".") if module else []
        if level:
            base = self.path.parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            here = self.path.parent
            bases = list(dict.fromkeys([here, here.parent, self.root, self.root / "src"]))
        for base in bases:
            found = self.load(base.joinpath(*parts), module)
            if found is not None:
                return found
        return None

    def load(self, where: pathlib.Path, name: str) -> ProjectModule | None:
        """The module at `where` (`where.py` or the package `where/`), if the project has it."""
        for file in (where.with_suffix(".py"), where / "__init__.py"):
            try:
                resolved = file.resolve()
                if file.name == ".py" or not resolved.is_file():
                    continue
                stat = resolved.stat()
            except (OSError, RuntimeError, ValueError):
                continue
            if not resolved.is_relative_to(self.root):
                continue
            return self._read(resolved, stat.st_mtime_ns, stat.st_size, name)
        if where.is_dir() and where.resolve().is_relative_to(self.root):  # a namespace package
            return ProjectModule(name, {}, lambda attr: self.load(where / attr, attr) or UNKNOWN)
        return None

    def _read(self, file: pathlib.Path, mtime_ns: int, size: int, name: str) -> ProjectModule:
        reading: set[str] = getattr(_READING, "files", set())
        _READING.files = reading
        key = str(file)
        self.files.append((key, mtime_ns, size))
        module: SourceModule | str = "an import cycle"
        if key not in reading:
            reading.add(key)
            try:
                display = file.relative_to(self.root).as_posix()
                module = read_module(key, mtime_ns, size, display, str(self.root))
            finally:
                reading.discard(key)
        names = module.names if isinstance(module, SourceModule) else {}
        self.files.extend(module.files if isinstance(module, SourceModule) else ())
        package = file.parent if file.name == "__init__.py" else None

        def submodule(attr: str) -> object:
            found = self.load(package / attr, f"{name}.{attr}") if package else None
            return UNKNOWN if found is None else found

        return ProjectModule(name, names, submodule)


def files_changed(files: tuple[Stamp, ...]) -> bool:
    """Whether any of these files changed since it was read."""
    for path, mtime_ns, size in files:
        try:
            stat = pathlib.Path(path).stat()
        except OSError:
            return True
        if (stat.st_mtime_ns, stat.st_size) != (mtime_ns, size):
            return True
    return False


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
