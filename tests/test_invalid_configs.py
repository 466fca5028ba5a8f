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
    command: validate    # or another command that validates first (render, plan)
    args: []             # extra arguments after `COMMAND -f FILE`
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

from flowfleet.cli.main import dispatch
from tests.conftest import YAML_LOADERS, yaml_loader

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
    "command",
    "args",
    "absent",
    "expected",
    "xfail",
}
FORMATS = ("yaml_", "flowfleet_", "legacy_")  # a case's name says which format it is about
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


MB = 1024 * 1024
DEPLOYMENT = "  - name: daily\n    entrypoint: flows/hello.py:hello\n"
FLOWFLEET_HEAD = "project: shop\nenvironments:\n  dev: {local: true}\ndeployments:\n" + DEPLOYMENT
LEGACY_HEAD = "deployments:\n" + DEPLOYMENT


def nested_lists(depth: int) -> bytes:
    """A valid config whose one parameter is `depth` lists inside each other."""
    value = "[" * depth + "]" * depth
    return (
        FLOWFLEET_HEAD + f"    parameters: {{number: 1, name: world, deep: {value}}}\n"
    ).encode()


def legacy_nested_mappings(depth: int) -> bytes:
    """An older-format file whose one parameter is `depth` mappings inside each other."""
    value = "{a: " * depth + "1" + "}" * depth
    return (LEGACY_HEAD + f"    parameters: {{number: 1, name: world, deep: {value}}}\n").encode()


def huge_file(head: str, size: int) -> bytes:
    """`head` (a valid config) followed by comment lines up to `size` bytes."""
    line = "# " + "x" * 97 + "\n"
    body = line * ((size - len(head)) // len(line))
    return (head + body + "#" * (size - len(head) - len(body) - 1) + "\n").encode()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "nested_lists_200": lambda: nested_lists(200),
    "nested_lists_10000": lambda: nested_lists(10_000),
    "legacy_nested_mappings_10000": lambda: legacy_nested_mappings(10_000),
    # one byte over the 16 MiB limit (flowfleet.config.document.MAX_FILE_BYTES)
    "huge_file": lambda: huge_file(FLOWFLEET_HEAD, 16 * MB + 1),
    "legacy_huge_file": lambda: huge_file(LEGACY_HEAD, 16 * MB + 1),
    "string_10mb_cron": lambda: (
        FLOWFLEET_HEAD + "    parameters: {number: 1, name: world}\n"
        f"    schedules: [{{cron: '{'7' * 10 * MB}'}}]\n"
    ).encode(),
    "string_10mb_variable": lambda: (
        FLOWFLEET_HEAD + f"    parameters: {{number: 1, name: '${{{'X' * 10 * MB}}}'}}\n"
    ).encode(),
    "string_10mb_key": lambda: (
        FLOWFLEET_HEAD + f"    parameters:\n      number: 1\n      ? {'k' * 10 * MB}\n      : 1\n"
    ).encode(),
    "legacy_string_10mb_key": lambda: (LEGACY_HEAD + f"    ? {'k' * 10 * MB}\n    : 1\n").encode(),
    "legacy_string_10mb_name": lambda: (
        LEGACY_HEAD.replace("daily", "d" * 10 * MB) + "    parameters: {number: 1, name: world}\n"
    ).encode(),
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
    command: str = "validate"
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
    assert config.exists() or config.is_symlink(), f"{case.name}: no config file {case.config}"
    return config


def isolate_variables(case: Case, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ${NAME} the case's files mention, then set the case's environ."""
    text = "\n".join(p.read_text("utf-8", "replace") for p in root.rglob("*") if p.is_file())
    for name in VARIABLE.findall(text):
        monkeypatch.delenv(name, raising=False)
    for name, value in case.environ.items():
        monkeypatch.setenv(name, value)


# The categories of issue 6; each has cases in the flowfleet format (yaml_ or flowfleet_)
# and in the older one (legacy_).
CATEGORIES = {
    "deep nesting": ["yaml_deep_nesting", "yaml_deep_nesting_10000", "legacy_deep_nesting_10000"],
    "huge files": ["yaml_huge_file", "legacy_huge_file"],
    "10 MB strings": [
        "flowfleet_string_10mb_cron",
        "flowfleet_string_10mb_variable_name",
        "flowfleet_string_10mb_key",
        "legacy_string_10mb_name",
        "legacy_string_10mb_key",
    ],
    "unicode names": [
        "flowfleet_name_zero_width_space",
        "flowfleet_name_right_to_left_override",
        "flowfleet_schedule_slug_control_character",
        "flowfleet_project_name_unicode",
        "flowfleet_environment_name_emoji",
        "flowfleet_flow_name_banned_unicode",
        "legacy_name_zero_width_joiner",
    ],
    "duplicate keys": [
        "yaml_duplicate_top_level_key",
        "yaml_duplicate_key_quoted",
        "yaml_duplicate_merge_key",
        "legacy_duplicate_key",
    ],
    "anchors and merge keys": [
        "yaml_merge_key_not_a_mapping",
        "flowfleet_merge_key_brings_unknown_key",
        "flowfleet_merge_key_override_points_at_override",
        "legacy_merge_key_not_a_mapping",
    ],
    "alias expansion bombs": [
        "yaml_billion_laughs",
        "yaml_recursive_alias",
        "legacy_billion_laughs",
        "legacy_recursive_alias",
    ],
    "symlinks out of the project": [
        "flowfleet_config_symlink_outside",
        "flowfleet_entrypoint_symlink_outside",
        "flowfleet_template_symlink_outside",
        "flowfleet_entrypoint_symlink_loop",
        "yaml_config_symlink_loop",
        "legacy_config_symlink_outside",
        "legacy_entrypoint_symlink_outside",
    ],
    "entrypoints to non-Python files": [
        "flowfleet_entrypoint_not_python",
        "flowfleet_entrypoint_binary_file",
        "flowfleet_entrypoint_compiled_python",
        "legacy_entrypoint_not_python",
    ],
}


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_has_cases_in_both_formats(category: str) -> None:
    names = {c.name for c in CASES}
    cases = CATEGORIES[category]
    assert set(cases) <= names, sorted(set(cases) - names)
    assert any(name.startswith(("yaml_", "flowfleet_")) for name in cases)
    assert any(name.startswith("legacy_") for name in cases)


def test_there_are_enough_cases() -> None:
    formats = {prefix: [c for c in CASES if c.name.startswith(prefix)] for prefix in FORMATS}
    assert len(CASES) >= 60
    assert all(len(cases) >= 10 for cases in formats.values()), {
        k: len(v) for k, v in formats.items()
    }
    assert all(c.name.startswith(tuple(FORMATS)) for c in CASES)


@pytest.mark.parametrize("loader", YAML_LOADERS)
@pytest.mark.parametrize("case", case_params())
def test_invalid_config(
    case: Case,
    loader: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same message whether libyaml is installed or not."""
    config = write_case(case, tmp_path)
    isolate_variables(case, tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)

    with yaml_loader(loader):
        code = dispatch([case.command, "-f", str(config), *case.args])
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


# ------------------------------------------------- inputs at the edge that are valid

UNICODE_NAMES = ["tägliche-Ausführung", "יומי", "يومي-2", "日次", "daily 🚀", "Ünïcödé.v2"]
GREET = (
    'from prefect import flow\n\n\n@flow(name="grüße-🌍 שלום")\ndef greet() -> None:\n    pass\n'
)


def validate_and_render(
    files: dict[str, bytes], config: str, root: Path, capsys: pytest.CaptureFixture[str]
) -> Any:
    """Write `files` (and FLOWS), validate `config` (exit 0), and return its render."""
    import json

    for name, content in {**{k: v.encode() for k, v in FLOWS.items()}, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    code = dispatch(["validate", "-f", str(root / config)])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, ""), captured.err
    assert dispatch(["render", "-f", str(root / config), "--env", "dev", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_unicode_names_prefect_accepts_are_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Non-ASCII, right-to-left and emoji names are valid, as in Prefect (which bans only
    / % & > <); invisible characters are not (see the *_zero_width_* cases)."""
    entries = "".join(
        f"  - name: {json_string(name)}\n    entrypoint: flows/hello.py:hello\n"
        "    parameters: {number: 1, name: world}\n"
        for name in UNICODE_NAMES
    )
    config = (
        "project: shop\nenvironments:\n  dev: {local: true}\ndeployments:\n"
        + entries
        + "  - name: grüßen\n    entrypoint: flows/greet.py:greet\n"
    )
    rendered = validate_and_render(
        {"flowfleet.yaml": config.encode(), "flows/greet.py": GREET.encode()},
        "flowfleet.yaml",
        tmp_path,
        capsys,
    )
    names = [(d["flow_name"], d["name"]) for d in rendered["deployments"]]
    assert sorted(names) == sorted(
        [("hello", n) for n in UNICODE_NAMES] + [("grüße-🌍 שלום", "grüßen")]
    )


def test_unicode_names_in_the_older_format_are_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        LEGACY_HEAD.replace("daily", "приём-данных-📥") + "    parameters: {number: 1, name: w}\n"
    )
    rendered = validate_and_render({"dev.yaml": config.encode()}, "dev.yaml", tmp_path, capsys)
    assert [d["name"] for d in rendered["deployments"]] == ["приём-данных-📥"]


def json_string(text: str) -> str:
    """`text` as a double-quoted YAML scalar (JSON strings are YAML)."""
    import json

    return json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize("head", [FLOWFLEET_HEAD, LEGACY_HEAD], ids=["flowfleet", "legacy"])
def test_a_10mb_string_is_valid(
    head: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 10 MB description is read whole (no limit on strings below the file size limit)."""
    description = "ü" * (5 * MB)  # 10 MB of UTF-8
    config = head + f"    parameters: {{number: 1, name: w}}\n    description: {description}\n"
    rendered = validate_and_render({"c.yaml": config.encode()}, "c.yaml", tmp_path, capsys)
    assert rendered["deployments"][0]["description"] == description


def test_a_file_at_the_size_limit_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowfleet.config.document import MAX_FILE_BYTES

    content = huge_file(FLOWFLEET_HEAD + "    parameters: {number: 1, name: w}\n", MAX_FILE_BYTES)
    assert len(content) == MAX_FILE_BYTES
    rendered = validate_and_render({"flowfleet.yaml": content}, "flowfleet.yaml", tmp_path, capsys)
    assert [d["name"] for d in rendered["deployments"]] == ["daily"]


def test_anchors_and_merge_keys_are_expanded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Merged keys are copied, keys written next to '<<' win, a list merges left first."""
    config = (
        "project: shop\nenvironments:\n  dev: {local: true}\ndeployments:\n"
        "  - &base\n    name: daily\n    entrypoint: flows/hello.py:hello\n"
        "    parameters: &params {number: 1, name: world}\n    tags: [&tag etl]\n"
        "  - <<: *base\n    name: hourly\n    parameters: {<<: *params, number: 2}\n"
        "  - <<: [{name: first, description: left}, *base]\n    tags: [*tag, late]\n"
    )
    rendered = validate_and_render(
        {"flowfleet.yaml": config.encode()}, "flowfleet.yaml", tmp_path, capsys
    )
    got = [
        (d["name"], d["parameters"], d["tags"], d["description"]) for d in rendered["deployments"]
    ]
    assert got == [
        ("daily", {"number": 1, "name": "world"}, ["etl"], None),
        ("hourly", {"number": 2, "name": "world"}, ["etl"], None),
        ("first", {"number": 1, "name": "world"}, ["etl", "late"], "left"),
    ]
