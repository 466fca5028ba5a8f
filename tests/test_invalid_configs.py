"""Every file in tests/invalid/ is a broken config and the exact stderr it must produce.

A case file is YAML:

    description: what the case is about (one line)
    files:               # written under tmp_path (relative path -> text)
      flowfleet.yaml: |
        ...
    config: flowfleet.yaml   # the file given to -f (default flowfleet.yaml)
    raw: 'b"..."'        # instead of files[config]: the config as a Python bytes literal
    generate: NAME       # instead of files[config]: one of GENERATORS below
    symlinks: {}         # link path -> target, both relative to tmp_path
    environ: {}          # environment variables to set; every other ${NAME} is unset
    args: []             # extra arguments after `validate -f FILE`
    absent: []           # paths that must not exist afterwards (nothing was executed)
    expected: |          # the exact stderr; {dir} stands for tmp_path
      ...
    xfail: reason        # the message is not right yet (strict: it fails once fixed)

Shared flow sources (FLOWS) are written next to the config file of every case.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowfleet.cli.main import run

CASES_DIR = Path(__file__).parent / "invalid"

FLOWS = {
    "flows/hello.py": (
        "from prefect import flow\n"
        "\n"
        "\n"
        '@flow(name="hello")\n'
        "def hello(number: int, name: str) -> None:\n"
        '    print(f"hello {name}" * number)\n'
    ),
    "flows/report.py": (
        "from prefect import flow\n"
        "\n"
        "\n"
        '@flow(name="report")\n'
        'def report(region: str, formats: list[str] = ["csv"]) -> None:\n'
        "    print(region, formats)\n"
    ),
}

CASE_KEYS = {
    "description",
    "files",
    "config",
    "raw",
    "generate",
    "symlinks",
    "environ",
    "args",
    "absent",
    "expected",
    "xfail",
}
FORMATS = ("yaml_", "flowfleet_", "legacy_")  # a case's name says which format it is about
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def nested_lists(depth: int) -> bytes:
    """A valid config whose one parameter is `depth` lists inside each other."""
    value = "[" * depth + "]" * depth
    return (
        "project: shop\n"
        "environments:\n"
        "  dev: {local: true}\n"
        "deployments:\n"
        "  - name: daily\n"
        "    entrypoint: flows/hello.py:hello\n"
        f"    parameters: {{number: 1, name: world, deep: {value}}}\n"
    ).encode()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "nested_lists_200": lambda: nested_lists(200),
}


@dataclass(frozen=True)
class Case:
    """One case file, parsed and checked for typos in its own keys."""

    name: str
    description: str
    expected: str
    files: dict[str, str] = field(default_factory=dict)
    config: str = "flowfleet.yaml"
    raw: str | None = None
    generate: str | None = None
    symlinks: dict[str, str] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    xfail: str | None = None

    @classmethod
    def load(cls, path: Path) -> Case:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        unknown = set(data) - CASE_KEYS
        assert not unknown, f"{path.name}: unknown case keys {sorted(unknown)}"
        return cls(name=path.stem, **data)

    def config_bytes(self) -> bytes | None:
        """The config file's content when it is not given as text in `files`."""
        if self.raw is not None:
            value = ast.literal_eval(self.raw)
            assert isinstance(value, bytes), f"{self.name}: raw must be a bytes literal"
            return value
        if self.generate is not None:
            return GENERATORS[self.generate]()
        return None


def load_cases() -> list[Case]:
    return [Case.load(path) for path in sorted(CASES_DIR.glob("*.yaml"))]


CASES = load_cases()


def case_params() -> list[Any]:
    params = []
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def write_case(case: Case, root: Path) -> Path:
    """Create the case's files under `root`; return the config file's path."""
    config = root / case.config
    texts = {str(Path(case.config).parent / name): text for name, text in FLOWS.items()}
    texts.update(case.files)
    for name, text in texts.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    content = case.config_bytes()
    if content is not None:
        assert case.config not in case.files, f"{case.name}: config given twice"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_bytes(content)
    for link, target in case.symlinks.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        (root / link).symlink_to(target)
    assert config.exists(), f"{case.name}: no config file {case.config}"
    return config


def isolate_variables(case: Case, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ${NAME} the case's files mention, then set the case's environ."""
    text = "\n".join(p.read_text("utf-8", "replace") for p in root.rglob("*") if p.is_file())
    for name in VARIABLE.findall(text):
        monkeypatch.delenv(name, raising=False)
    for name, value in case.environ.items():
        monkeypatch.setenv(name, value)


def test_there_are_enough_cases() -> None:
    formats = {prefix: [c for c in CASES if c.name.startswith(prefix)] for prefix in FORMATS}
    assert len(CASES) >= 40
    assert all(len(cases) >= 10 for cases in formats.values()), {
        k: len(v) for k, v in formats.items()
    }
    assert all(c.name.startswith(tuple(FORMATS)) for c in CASES)


@pytest.mark.parametrize("case", case_params())
def test_invalid_config(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_case(case, tmp_path)
    isolate_variables(case, tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)

    code = run(["validate", "-f", str(config), *case.args])
    captured = capsys.readouterr()

    assert "Traceback" not in captured.out + captured.err
    assert captured.err == case.expected.replace("{dir}", str(tmp_path))
    assert code == 1
    for name in case.absent:
        assert not (tmp_path / name).exists(), f"{name} was created: the config was executed"


def test_python_tag_probe_would_create_the_file(tmp_path: Path) -> None:
    """The probe in the python-tag case is live: an unsafe loader does create the file."""
    (case,) = [c for c in CASES if c.name == "yaml_python_tag_is_not_executed"]
    text = case.files[case.config].replace("pwned", str(tmp_path / "pwned"))
    yaml.unsafe_load(text)
    assert (tmp_path / "pwned").exists()
