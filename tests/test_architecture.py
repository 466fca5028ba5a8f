"""The import rules of docs/architecture.md, read from the source (lazy imports included).

- no import cycle between flowfleet's modules;
- the stages before the plan (config, flows, render), the plan and the model never import
  the server package or httpx: they cannot reach a server;
- no core package imports the command line (cli, commands).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "flowfleet"

OFFLINE = ("config", "flows", "render", "plan", "model")
NETWORK = ("flowfleet.server", "httpx")
COMMAND_LINE = ("flowfleet.cli", "flowfleet.commands")
CORE = (*OFFLINE, "server", "apply", "output", "interop")
TOP_LEVEL_LIMIT = 8
BASE = {"errors", "_version", "_aio"}
# Which stage packages each one may import (docs/architecture.md; each package's docstring).
MAY_IMPORT: dict[str, set[str]] = {
    "config": BASE,
    "model": BASE,
    "flows": BASE | {"config"},
    "render": BASE | {"config", "flows", "model"},
    "plan": BASE | {"config", "flows", "render", "model"},
    "server": BASE | {"config", "model"},
    "apply": BASE | {"config", "flows", "render", "model", "plan", "server"},
    "output": BASE | {"model", "plan", "apply"},
    "interop": BASE | {"config", "flows", "render", "model", "plan", "server"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[tuple[str, list[str]]]:
    """Every import statement of `path`, wherever it is: (module, names imported from it)."""
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base, [alias.name for alias in node.names]


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """flowfleet module → the flowfleet modules (and outside top-level names) it imports."""
    modules = {module_name(p): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for base, names in imports_of(path):
            if not base.startswith("flowfleet"):
                found.add(base.split(".")[0])
                continue
            # `from flowfleet.plan import saved` imports a module; `... import Plan` does not
            submodules = {f"{base}.{n}" for n in names} & modules.keys()
            found |= submodules or {base}
        edges[name] = {t for t in found if t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among flowfleet's modules (one path per strongly connected part)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def broken_rules(edges: dict[str, set[str]]) -> list[str]:
    """Each import that breaks a rule, as 'importer → imported (rule)'."""
    broken = []
    for module, targets in sorted(edges.items()):
        stage = module.split(".")[1] if module.count(".") else ""
        for target in sorted(targets):
            if stage in OFFLINE and target.startswith(NETWORK):
                broken.append(f"{module} → {target} (offline stages never reach a server)")
            if stage in CORE and target.startswith(COMMAND_LINE):
                broken.append(f"{module} → {target} (the core never imports the command line)")
            into = target.split(".")[1] if target.startswith("flowfleet.") else None
            allowed = MAY_IMPORT.get(stage)
            if allowed is not None and into not in (None, stage, *allowed):
                broken.append(f"{module} → {target} ({stage} may not import {into})")
    return broken


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_import_rules_hold() -> None:
    assert broken_rules(graph()) == []


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """A forbidden import and a cycle in a throwaway tree are found (lazy imports too)."""
    tree = tmp_path / "flowfleet"
    for package in ("plan", "server", "cli"):
        (tree / package).mkdir(parents=True)
        (tree / package / "__init__.py").write_text("")
    (tree / "__init__.py").write_text("")
    (tree / "plan" / "a.py").write_text("def f():\n    from flowfleet.server import b\n")
    (tree / "server" / "b.py").write_text("from flowfleet.plan import a\nimport httpx\n")
    (tree / "server" / "c.py").write_text("from ..cli import main\n")
    (tree / "cli" / "main.py").write_text("")
    edges = {name.removeprefix(""): targets for name, targets in _graph_of(tmp_path, tree).items()}
    assert cycles(edges) == [["flowfleet.plan.a", "flowfleet.server.b"]]
    assert broken_rules(edges) == [
        "flowfleet.plan.a → flowfleet.server.b (offline stages never reach a server)",
        "flowfleet.plan.a → flowfleet.server.b (plan may not import server)",
        "flowfleet.server.b → flowfleet.plan.a (server may not import plan)",
        "flowfleet.server.c → flowfleet.cli.main (the core never imports the command line)",
        "flowfleet.server.c → flowfleet.cli.main (server may not import cli)",
    ]


def _graph_of(src: Path, tree: Path) -> dict[str, set[str]]:
    global SRC
    saved, SRC = SRC, src
    try:
        return graph(tree)
    finally:
        SRC = saved


def test_few_modules_stay_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= TOP_LEVEL_LIMIT, top


@pytest.mark.parametrize(
    "package",
    sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()),
)
def test_every_stage_package_says_what_it_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc and "import" in doc, f"flowfleet/{package}/__init__.py: say what it may import"
