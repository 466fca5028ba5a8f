"""ECS infrastructure blocks saved by a Python file in the repository, read without running
it (as flow files are read): `ECSTask(...)` calls whose block is `.save("dev")`d or
`.save(name="dev", overwrite=True)`d, directly or through a name.

An argument is known when it is a literal, a module constant, `os.environ.get("X",
default)` / `os.getenv("X", default)` (kept as `${X:-default}` when the default is a
text), `AwsCredentials()` or `AwsCredentials.load("name")`; anything else is a warning at
its line, and the field is left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowfleet.errors import Location

SKIPPED_FOLDERS = {"node_modules", "site-packages", "__pycache__", "venv"}


@dataclass(frozen=True)
class Credentials:
    """An `aws_credentials` argument: a saved block by name, or None for `AwsCredentials()`."""

    name: str | None


@dataclass(frozen=True)
class SavedBlock:
    """One `ECSTask` saved under `name`: each field's value and where it is written."""

    name: str
    location: Location
    fields: dict[str, tuple[Any, Location]]
    warnings: tuple[tuple[Location, str], ...] = ()


@dataclass
class BlockFile:
    """What one file saves, and what could not be read."""

    blocks: list[SavedBlock] = field(default_factory=list)
    warnings: list[tuple[Location, str]] = field(default_factory=list)


class _Unknown(Exception):
    pass


def block_files(root: Path) -> Iterator[Path]:
    """The Python files under `root` that mention ECSTask (hidden and virtualenv folders
    skipped), sorted."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
            continue
        try:
            if b"ECSTask" in path.read_bytes():
                yield path
        except OSError:
            continue


def read_block_file(path: Path, display: str) -> BlockFile:
    """Every ECSTask the file saves; a file that does not parse is one warning."""
    result = BlockFile()
    try:
        tree = ast.parse(path.read_bytes(), filename=display)
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None) or 1
        result.warnings.append((Location(display, line, 1), f"cannot read the file: {exc}"))
        return result
    reader = _Reader(display, result)
    reader.constants(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            reader.save(node)
    return result


class _Reader:
    def __init__(self, display: str, result: BlockFile) -> None:
        self.display = display
        self.result = result
        self.names: dict[str, Any] = {}
        self.tasks: dict[str, ast.Call] = {}

    def at(self, node: ast.AST) -> Location:
        return Location(
            self.display, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        )

    def constants(self, body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.If):
                self.constants(statement.body)
            if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
                continue
            target = statement.targets[0]
            if not isinstance(target, ast.Name):
                continue
            if _is_ecs_task(statement.value):
                assert isinstance(statement.value, ast.Call)
                self.tasks[target.id] = statement.value
                continue
            try:
                self.names[target.id] = self.value(statement.value)
            except _Unknown:
                self.names.pop(target.id, None)

    def save(self, node: ast.Call) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "save"):
            return
        owner = func.value
        task = owner if _is_ecs_task(owner) else None
        if isinstance(owner, ast.Name):
            task = self.tasks.get(owner.id)
        if not isinstance(task, ast.Call):
            return
        name_node = node.args[0] if node.args else _keyword(node, "name")
        try:
            name = self.value(name_node) if name_node is not None else None
        except _Unknown:
            name = None
        if not isinstance(name, str):
            self.result.warnings.append(
                (
                    self.at(node),
                    "the name this ECSTask is saved under is not a literal text; "
                    'write it as one, e.g. .save("dev")',
                )
            )
            return
        before = len(self.result.warnings)
        fields = self.fields(task)
        mine = tuple(self.result.warnings[before:])
        del self.result.warnings[before:]
        self.result.blocks.append(SavedBlock(name, self.at(node), fields, mine))

    def fields(self, task: ast.Call) -> dict[str, tuple[Any, Location]]:
        found: dict[str, tuple[Any, Location]] = {}
        if task.args:
            self.result.warnings.append(
                (self.at(task), "ECSTask takes keyword arguments; positional ones are left out")
            )
        for keyword in task.keywords:
            where = self.at(keyword.value)
            if keyword.arg is None:
                self.result.warnings.append((where, "'**' arguments cannot be read; left out"))
                continue
            try:
                found[keyword.arg] = (self.value(keyword.value), where)
            except _Unknown:
                self.result.warnings.append(
                    (
                        where,
                        f"ECSTask field '{keyword.arg}' cannot be read without running the "
                        "file (only literals, module constants and os.environ.get(NAME, "
                        "default) are read); it is left out: set it in the work pool's "
                        "job_variables",
                    )
                )
        return found

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [self.value(item) for item in node.elts]
        if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
            return {
                self.value(k): self.value(v)
                for k, v in zip(node.keys, node.values, strict=True)
                if k
            }
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            number = self.value(node.operand)
            if isinstance(number, int | float) and not isinstance(number, bool):
                return -number
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _Unknown

    def call(self, node: ast.Call) -> Any:
        name = _dotted(node.func)
        if name in ("os.environ.get", "os.getenv", "environ.get", "getenv") and len(node.args) == 2:
            variable, default = self.value(node.args[0]), self.value(node.args[1])
            if isinstance(variable, str) and isinstance(default, str):
                return f"${{{variable}:-{default}}}"
            return default
        if name.endswith("AwsCredentials") and not node.args and not node.keywords:
            return Credentials(None)
        if name.endswith("AwsCredentials.load") and (node.args or node.keywords):
            block = self.value(node.args[0] if node.args else node.keywords[0].value)
            if isinstance(block, str):
                return Credentials(block)
        raise _Unknown


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_ecs_task(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] == "ECSTask"
