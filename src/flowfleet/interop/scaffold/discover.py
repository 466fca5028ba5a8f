"""The Prefect flows already in a repository, found by reading the source (never running it).

Every `*.py` file under the folder is parsed, except in hidden folders, virtualenvs
(folders with a `pyvenv.cfg`), `__pycache__`, `node_modules` and `site-packages`, and
except tests (`test`/`tests` folders, `test_*.py`, `*_test.py`, `conftest.py`): flows
defined for tests are not deployed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flowfleet.flows.inspect import EntrypointError, Flow, inspect_flow
from flowfleet.flows.source import SourceModule, flow_decorator, read_module

_SKIPPED_FOLDERS = {"__pycache__", "node_modules", "site-packages", "test", "tests"}


@dataclass(frozen=True)
class FoundFlow:
    """A flow function at `entrypoint` (`path/to/file.py:function`, relative)."""

    entrypoint: str
    flow: Flow


@dataclass(frozen=True)
class Unusable:
    """A file or flow that cannot be deployed as it is, and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """What `discover_flows` found, in path and line order."""

    flows: tuple[FoundFlow, ...]
    unusable: tuple[Unusable, ...]


def discover_flows(root: Path) -> Discovery:
    """Every top-level `@flow` function in the Python files under `root`."""
    flows: list[FoundFlow] = []
    unusable: list[Unusable] = []
    for path in python_files(root):
        display = path.relative_to(root).as_posix()
        module = _read(path, display)
        if isinstance(module, str):
            unusable.append(Unusable(display, module))
            continue
        for function in _flow_functions(module):
            entrypoint = f"{display}:{function}"
            try:
                flows.append(FoundFlow(entrypoint, inspect_flow(root, entrypoint)))
            except EntrypointError as exc:
                unusable.append(Unusable(entrypoint, str(exc)))
    return Discovery(tuple(flows), tuple(unusable))


def python_files(root: Path) -> Iterator[Path]:
    """The Python files under `root` that may hold flows, sorted."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if _searched(Path(folder) / d))
        for name in sorted(files):
            if name.endswith(".py") and not _is_test_file(name):
                yield Path(folder) / name


def _searched(folder: Path) -> bool:
    name = folder.name
    hidden = name.startswith(".")
    return not hidden and name not in _SKIPPED_FOLDERS and not (folder / "pyvenv.cfg").exists()


def _is_test_file(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _read(path: Path, display: str) -> SourceModule | str:
    try:
        stat = path.stat()
        if b"flow" not in path.read_bytes():  # cheap: most files define no flow
            return SourceModule({}, {})
    except OSError as exc:
        return f"cannot read {display}: {exc.strerror}"
    return read_module(str(path), stat.st_mtime_ns, stat.st_size, display)


def _flow_functions(module: SourceModule) -> list[str]:
    functions = sorted(module.functions.values(), key=lambda f: f.lineno)
    return [f.name for f in functions if flow_decorator(f, module.names) is not None]
