"""No input file makes the loader raise anything but a user error, or validate exit 3,
with either YAML loader (libyaml, or PyYAML's pure-Python one: tests/conftest.py)."""

from __future__ import annotations

import contextlib
import io
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flowfleet.cli.main import dispatch
from flowfleet.config.document import parse_document
from flowfleet.config.load import load_config
from flowfleet.errors import ConfigError, ValidationFailed
from tests.conftest import YAML_LOADERS, yaml_loader

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HELLO = (
    "from prefect import flow\n"
    "\n"
    "\n"
    '@flow(name="hello")\n'
    "def hello(number: int, name: str = 'world') -> None:\n"
    "    print(number, name)\n"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with one flow; each example overwrites its config file."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "flows").mkdir()
    (root / "flows" / "hello.py").write_text(HELLO, encoding="utf-8")
    return root


# ---------------------------------------------------------------- (a) arbitrary input

YAML_TOKENS = [*":-[]{},&*!|>'\"#%@`?\n\t ~$", "${X}", "<<", "key", "&a", "*a", "!!str", "---"]
YAML_TOKENS += ["\n  ", "\n- ", ": ", "deployments", "environments", "name", "1.5", "null"]
YAMLISH = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)
TEXT = st.one_of(st.text(), YAMLISH, st.text(alphabet=string.printable))


def parse_quietly(raw: bytes) -> None:
    """Parse `raw`; a FlowfleetError is a fine answer, anything else fails the test."""
    with contextlib.suppress(ConfigError):
        parse_document(raw, "fuzz.yaml", environ={})


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(TEXT)
@example("a: &a [*a]")
@example("[" * 100 + "]" * 100)
@example("? [a]\n: b")
@example("<<: *x")
@example("a: !!python/object/apply:os.system [echo]")
@example("a: &a {x: 1}\nb: {<<: *a, <<: *a}")
@example("[" * 10_000 + "]" * 10_000)
@example("{a: " * 5_000 + "1" + "}" * 5_000)
def test_parse_document_text(loader: str, text: str) -> None:
    with yaml_loader(loader):
        parse_quietly(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(st.binary())
@example(b"\xff\xfe\x00a")
@example(b"a: \xe9")
@example(b"\xef\xbb\xbfa: 1")
def test_parse_document_bytes(loader: str, raw: bytes) -> None:
    with yaml_loader(loader):
        parse_quietly(raw)


def load_quietly(path: Path, raw: bytes) -> None:
    path.write_bytes(raw)
    with contextlib.suppress(ConfigError, ValidationFailed):
        load_config(path)


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(TEXT)
@example("environments: {dev: {}}\ndeployments: [{name: x, entrypoint: 'f.py:f'}]")
@example("deployments: [{name: x, entrypoint: 'f.py:f', schedule: {interval: 1}}]")
def test_load_config_text(project: Path, loader: str, text: str) -> None:
    with yaml_loader(loader):
        load_quietly(project / "text.yaml", text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(st.binary())
def test_load_config_bytes(project: Path, loader: str, raw: bytes) -> None:
    with yaml_loader(loader):
        load_quietly(project / "bytes.yaml", raw)


# ---------------------------------------------------------------- (b) generated documents

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", "~", "${HOME}", "${UNSET_FUZZ_VARIABLE}", "{env}", "{region}", "1.10"]),
)
KEYS = st.one_of(st.text(max_size=12), st.integers(), st.booleans())
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=4),
    ),
    max_leaves=12,
)


def value(good: Any, bad: Any = (), *, anything: bool = True) -> st.SearchStrategy[Any]:
    """Mostly a right value, sometimes a near miss, now and then anything at all.

    `good` and `bad` are strategies or lists of examples. Documents that are mostly
    valid reach rendering and validation, not only the schema check.
    """
    goods = good if isinstance(good, st.SearchStrategy) else st.sampled_from(good)
    options = [goods] * 16
    if isinstance(bad, st.SearchStrategy) or bad:
        options += [bad if isinstance(bad, st.SearchStrategy) else st.sampled_from(bad)] * 3
    if anything:
        options.append(VALUES)
    return st.integers(0, len(options) - 1).flatmap(lambda i: options[i])


TEXT_VALUE = value(
    st.text(string.ascii_letters + " -_.", max_size=12), ["${UNSET_FUZZ_VARIABLE}", "${X-}", ""]
)
NAME = value(
    ["daily", "report-{region}", "{env}-nightly", "hourly"], ["a/b", "", "{unknown}", "${X-}"]
)
ENV_NAME = value(["dev", "prod"], ["prd", "my env", "env", ""], anything=False)
ENTRYPOINT = value(
    ["flows/hello.py:hello"],
    [
        "flows/hello.py:helo",
        "flows/missing.py:hello",
        "flows/hello.py",
        "../outside.py:hello",
        "/etc/hostname:hello",
        "flows:hello",
        "",
    ],
)
CRON = value(["0 6 * * *", "*/15 * * * 1-5", "@daily"], ["0 6 * *", "61 * * * *", "H * * * *"])
RRULE = value(["FREQ=DAILY;BYHOUR=9", "RRULE:FREQ=WEEKLY"], ["FREQ=NEVER", "hello"])
ZONE = value(["UTC", "Europe/Berlin"], ["Europe/Berln", "Nowhere"])
SECONDS = value(st.integers(1, 10**6), st.one_of(st.integers(-5, 0), st.floats(), st.booleans()))
COUNT = value(st.integers(1, 100), st.one_of(st.integers(-5, 0), st.floats(), st.booleans()))
BOOL = value(st.booleans(), ["yes", "sometimes", 1])
DATE = value(["2024-01-01T00:00:00", "2024-06-30"], ["2024-13-01", "soon"])
PARAMETERS = value(
    st.fixed_dictionaries(
        {"number": value(st.integers(0, 10), ["ten", 1.5])},
        optional={"name": TEXT_VALUE, "nmae": TEXT_VALUE, "region": value(["{region}"])},
    ),
    st.lists(SCALARS, max_size=2),
)


def one_kind(schedule: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A schedule with (usually) exactly one of cron, interval or rrule."""
    kinds = st.sampled_from([{"cron": CRON}, {"interval": SECONDS}, {"rrule": RRULE}, {}])
    return kinds.flatmap(lambda kind: st.fixed_dictionaries(kind, optional=schedule))


SCHEDULE = value(
    one_kind(
        {
            "timezone": ZONE,
            "anchor_date": DATE,
            "day_or": BOOL,
            "active": BOOL,
            "parameters": PARAMETERS,
            "slug": NAME,
            "max_scheduled_runs": COUNT,
        }
    )
)
SETTINGS_FIELDS = {
    "parameters": PARAMETERS,
    "schedules": value(st.lists(SCHEDULE, max_size=2)),
    "schedules_active": BOOL,
    "tags": value(st.lists(TEXT_VALUE, max_size=3), st.text(max_size=5)),
    "version": value(["1", "1.10", 2], [[1]]),
    "description": TEXT_VALUE,
    "work_pool": value(
        st.fixed_dictionaries(
            {},
            optional={
                "name": value(["pool-{env}", "default"]),
                "work_queue_name": TEXT_VALUE,
                "job_variables": value(st.dictionaries(st.text(max_size=5), VALUES, max_size=3)),
            },
        )
    ),
    "pull_steps": value(st.lists(st.dictionaries(st.text(max_size=8), VALUES), max_size=2)),
    "paused": BOOL,
    "concurrency_limit": COUNT,
    "enforce_parameter_schema": BOOL,
}
SETTINGS = st.fixed_dictionaries({}, optional=SETTINGS_FIELDS)
DEPLOYMENT = st.fixed_dictionaries(
    {"name": NAME, "entrypoint": ENTRYPOINT},
    optional={
        **SETTINGS_FIELDS,
        "matrix": value(
            st.dictionaries(
                value(["region", "size"], ["env", "bad-key"], anything=False),
                value(st.lists(st.sampled_from(["eu", "us", 1, True]), min_size=1, max_size=3)),
                max_size=2,
            )
        ),
        "environments": value(st.dictionaries(ENV_NAME, st.none() | SETTINGS, max_size=2)),
    },
)
ENVIRONMENT = st.fixed_dictionaries(
    {},
    optional={
        "api_url": value(["http://127.0.0.1:1/api"], ["${UNSET_FUZZ_VARIABLE}"]),
        "api_key_env": value(["PREFECT_KEY"], ["my-key"]),
        "local": BOOL,
        "overrides": value(SETTINGS),
    },
)
FLOWFLEET_CONFIG = st.fixed_dictionaries(
    {
        "environments": value(st.dictionaries(ENV_NAME, ENVIRONMENT, max_size=3)),
        "deployments": value(st.lists(DEPLOYMENT, max_size=3)),
    },
    optional={"project": value(["shop"], ["the shop", ""]), "defaults": value(SETTINGS)},
)
LEGACY_SCHEDULE = value(
    one_kind({"timezone": ZONE, "anchor-date": DATE}),
)
LEGACY_DEPLOYMENT = st.fixed_dictionaries(
    {"name": NAME, "entrypoint": ENTRYPOINT},
    optional={
        "parameters": PARAMETERS,
        "schedule": LEGACY_SCHEDULE,
        "tags": SETTINGS_FIELDS["tags"],
        "version": SETTINGS_FIELDS["version"],
        "description": TEXT_VALUE,
        "work_pool": value(
            st.fixed_dictionaries({}, optional={"name": TEXT_VALUE, "work_queue_name": TEXT_VALUE})
        ),
    },
)
LEGACY_CONFIG = st.fixed_dictionaries(
    {"deployments": value(st.lists(LEGACY_DEPLOYMENT, max_size=3))},
    optional={"ib-block": TEXT_VALUE},
)


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """stdout and stderr of an in-process run, together."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


def validate_document(path: Path, document: Any, *args: str) -> None:
    """Dump `document` to `path`, validate it, and check the outcome is 0 or 1."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    with captured() as output:
        code = dispatch(["validate", "-f", str(path), *args])
    text = output.getvalue()
    assert code in (0, 1), text
    assert "Traceback" not in text
    assert "internal error" not in text


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(VALUES)
def test_validate_any_document(project: Path, loader: str, document: Any) -> None:
    with yaml_loader(loader):
        validate_document(project / "any.yaml", document)


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(FLOWFLEET_CONFIG)
@example(
    {
        "environments": {"dev": {"local": True}},
        "deployments": [{"name": "daily", "entrypoint": "flows/hello.py:hello"}],
    }
)
def test_validate_flowfleet_shaped_document(project: Path, loader: str, document: Any) -> None:
    with yaml_loader(loader):
        validate_document(project / "flowfleet.yaml", document)


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(LEGACY_CONFIG)
@example(
    {
        "deployments": [
            {
                "name": "ingest",
                "entrypoint": "flows/hello.py:hello",
                "schedule": {"cron": "0 6 * * *", "anchor-date": "2024-01-01T00:00:00"},
            }
        ]
    }
)
def test_validate_legacy_shaped_document(project: Path, loader: str, document: Any) -> None:
    with yaml_loader(loader):
        validate_document(project / "dev.yaml", document)


# ---------------------------------------------------------------- (c) merge keys

KEY = st.sampled_from(["ka", "kb", "kc", "kd"])
SCALAR = st.one_of(st.integers(-5, 5), st.sampled_from(["va", "vb", "vc"]))


@st.composite
def merge_document(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Anchored mappings that may merge earlier ones, and a target merging some of them
    (one alias or a list) next to keys of its own; with the data the YAML merge-key rules
    give (https://yaml.org/type/merge.html): a mapping's own keys win, then the merged
    mappings in the order listed (an earlier one wins over a later one)."""
    lines = ["anchors:"]
    resolved: list[dict[str, Any]] = []
    count = draw(st.integers(1, 4))
    for i in range(count):
        own = draw(st.dictionaries(KEY, SCALAR, max_size=3))
        parts = [f"{k}: {v}" for k, v in own.items()]
        merged: dict[str, Any] = {}
        if i and draw(st.booleans()):
            source = draw(st.integers(0, i - 1))
            parts.insert(draw(st.integers(0, len(parts))), f"<<: *a{source}")
            merged = resolved[source]
        resolved.append({**merged, **own})
        lines.append(f"  - &a{i} {{{', '.join(parts)}}}")
    sources = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=3, unique=True))
    merge = f"*a{sources[0]}" if len(sources) == 1 else f"[{', '.join(f'*a{s}' for s in sources)}]"
    own = draw(st.dictionaries(KEY, SCALAR, max_size=3))
    parts = [f"{k}: {v}" for k, v in own.items()]
    parts.insert(draw(st.integers(0, len(parts))), f"<<: {merge}")
    lines.append(f"target: {{{', '.join(parts)}}}")
    target: dict[str, Any] = {}
    for source in reversed(sources):  # earlier sources overwrite later ones
        target.update(resolved[source])
    return "\n".join(lines) + "\n", {"anchors": resolved, "target": {**target, **own}}


@pytest.mark.parametrize("loader", YAML_LOADERS)
@FUZZ
@given(merge_document())
@example(
    (
        "anchors:\n  - &a0 {ka: 1}\n  - &a1 {<<: *a0, kb: 2}\ntarget: {ka: 3, <<: [*a1, *a0]}\n",
        {"anchors": [{"ka": 1}, {"ka": 1, "kb": 2}], "target": {"ka": 3, "kb": 2}},
    )
)
# Found by a random run: PyYAML gives ka: 1 here (the last mapping listed wins), against
# the merge-key rules; flowfleet follows the rules.
@example(
    (
        "anchors:\n  - &a0 {}\n  - &a1 {ka: 0}\n  - &a2 {ka: 1}\ntarget: {<<: [*a0, *a1, *a2]}\n",
        {"anchors": [{}, {"ka": 0}, {"ka": 1}], "target": {"ka": 0}},
    )
)
def test_merge_keys_mean_what_yaml_says(loader: str, case: tuple[str, dict[str, Any]]) -> None:
    """Keys next to '<<' win, then the merged mappings from left to right (YAML's merge-key
    rules; where PyYAML departs from them, flowfleet follows the rules)."""
    text, expected = case
    with yaml_loader(loader):
        assert parse_document(text.encode(), "m.yaml", environ={}).data == expected
