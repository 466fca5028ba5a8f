"""Parameter types a flow's file defines or imports from the project (issue 13): pydantic
models, dataclasses, TypedDicts, enums, literals, nested and optional forms, module
constants as defaults. Each schema is compared with the installed Prefect's own, read
from the same files (`parameter_schema_from_entrypoint`) and, where Prefect can import the
flow, from the imported function (`parameter_schema`, what `prefect deploy` sends).
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowfleet.flows.inspect import check_parameters, inspect_flow

MODELS = '''
"""Data types of the project, imported by the flows."""
from enum import Enum
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

RETENTION = 30


class Level(str, Enum):
    LOW = "low"
    HIGH = "high"


class Bucket(BaseModel):
    """Where files go."""

    name: str
    region: Literal["eu", "us"] = "eu"


class Cleanup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_to_keep: int = RETENTION
    level: Level = Level.LOW
    label: str = Field("nightly", description="shown in the UI")
    bucket: Optional[Bucket] = None
    buckets: list[Bucket] = Field(default_factory=list)

    def describe(self) -> str:
        return f"{self.label}: {self.days_to_keep}"
'''

SAME_FILE = '''
import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional, Union

import pydantic
import typing_extensions
from prefect import flow
from pydantic import BaseModel, Field

DEFAULT_RUNNER = "local"
PREFIX = "etl"
RUNNER_NAME = f"{PREFIX}-runner"


class Source(BaseModel):
    """A source table."""

    table: str = Field(..., description="schema.table")
    limit: Optional[int] = None


class Job(Source):
    sources: list[Source] = []
    mapping: dict[str, Source] = {}


@dataclass
class Window:
    start: int
    end: int = 10


@dataclasses.dataclass(frozen=True)
class Shift:
    """A shift of the window."""

    by: int = field(default=1)


class Options(typing_extensions.TypedDict, total=False):
    verbose: bool
    depth: int


class Strict(typing_extensions.TypedDict):
    name: str
    extra: typing_extensions.NotRequired[int]


class Local:
    pass


@flow
def models(
    job: Job,
    source: Optional[Source] = None,
    either: Union[Source, Window, None] = None,
    window: Optional[Window] = None,
    shift: Shift = None,
    options: Options = {},
    strict: Optional[Strict] = None,
    runner: str = DEFAULT_RUNNER,
    runner_name: str = RUNNER_NAME,
    anything: Optional[Any] = None,
):
    pass


@flow
def constants(runner: str = DEFAULT_RUNNER, name: str = PREFIX + "-x", when: int = len(PREFIX)):
    pass
'''

CALLABLES = """
from typing import Any, Callable, Optional

from prefect import flow


@flow
def callables(callback: Optional[Callable] = None, handler: Callable[..., Any] = None):
    pass
"""

FLOW_RELATIVE = """
from prefect import flow

from .models import Cleanup, Level


@flow
def cleanup(config: Cleanup, level: Level = Level.HIGH, keep: int = 7):
    pass
"""

FLOW_MODULE_IMPORT = """
from prefect import flow

import {package}.models
from {package} import models as m


@flow
def cleanup(config: {package}.models.Cleanup, bucket: m.Bucket = None):
    pass
"""

MISSING_LIBRARY = """
from typing import Optional

from nosuchlib import Thing
import nosuchlib.frames as frames
from prefect import flow


@flow
def lib(thing: Thing, frame: Optional[frames.Frame] = None, n: int = 1):
    pass
"""


@pytest.fixture
def fresh_modules() -> Iterator[None]:
    """Prefect imports the project's modules: forget them after each test."""
    before = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]
    sys.path[:] = path
    importlib.invalidate_caches()


def write(root: Path, name: str, source: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def prefect_from_source(path: Path, function: str) -> dict[str, Any]:
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = parameter_schema_from_entrypoint(f"{path}:{function}")
    return schema.model_dump(exclude_unset=True)


def prefect_from_import(module: str, function: str) -> dict[str, Any]:
    from prefect.utilities.callables import parameter_schema

    flow = getattr(importlib.import_module(module), function)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parameter_schema(flow).model_dump(exclude_unset=True)


@pytest.mark.usefixtures("fresh_modules")
def test_types_defined_in_the_flow_file(tmp_path: Path) -> None:
    path = write(tmp_path, "flows/same_file_types.py", SAME_FILE)
    found = inspect_flow(tmp_path, "flows/same_file_types.py:models").parameter_schema
    assert found["definitions"].keys() >= {"Job", "Source", "Window", "Shift", "Options"}
    assert found == prefect_from_source(path, "models")
    sys.path.insert(0, str(path.parent))
    assert found == prefect_from_import("same_file_types", "models")


@pytest.mark.usefixtures("fresh_modules")
def test_callables(tmp_path: Path) -> None:
    """pydantic 2.13 refuses to make a schema of a Callable. Newer Prefect makes such a
    parameter `Any`; older Prefect (3.4) lets the error out, so it cannot deploy the flow at
    all, while flowfleet still gives the newer Prefect's schema (not a copy of a crash)."""
    from pydantic.errors import PydanticInvalidForJsonSchema

    path = write(tmp_path, "flows/callables.py", CALLABLES)
    found = inspect_flow(tmp_path, "flows/callables.py:callables").parameter_schema
    assert found["properties"]["callback"] == {"default": None, "position": 0, "title": "callback"}
    try:
        expected = prefect_from_source(path, "callables")
    except PydanticInvalidForJsonSchema:
        return
    assert found == expected


@pytest.mark.usefixtures("fresh_modules")
def test_module_constants_as_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "flows/constant_defaults.py", SAME_FILE)
    found = inspect_flow(tmp_path, "flows/constant_defaults.py:constants").parameter_schema
    assert found["properties"]["runner"]["default"] == "local"
    expected = prefect_from_source(path, "constants")
    # A call (`len(PREFIX)`) is the one default flowfleet leaves out: Prefect runs it and
    # freezes its value, which would show as a change on every apply.
    del expected["properties"]["when"]["default"]
    assert found == expected


@pytest.mark.usefixtures("fresh_modules")
@pytest.mark.parametrize("layout", ["flat", "src"])
def test_types_imported_from_the_project_relatively(tmp_path: Path, layout: str) -> None:
    package = f"pipelines_{layout}"
    base = "src/" if layout == "src" else ""
    write(tmp_path, f"{base}{package}/__init__.py", "")
    write(tmp_path, f"{base}{package}/models.py", MODELS)
    path = write(tmp_path, f"{base}{package}/cleanup.py", FLOW_RELATIVE)
    found = inspect_flow(tmp_path, f"{base}{package}/cleanup.py:cleanup").parameter_schema
    assert set(found["definitions"]) == {"Bucket", "Cleanup", "Level"}
    assert found == prefect_from_source(path, "cleanup")
    sys.path.insert(0, str(path.parent.parent))
    assert found == prefect_from_import(f"{package}.cleanup", "cleanup")


@pytest.mark.usefixtures("fresh_modules")
def test_types_imported_from_the_project_by_module_name(tmp_path: Path) -> None:
    write(tmp_path, "shared_types/__init__.py", "")
    write(tmp_path, "shared_types/models.py", MODELS)
    source = FLOW_MODULE_IMPORT.format(package="shared_types")
    path = write(tmp_path, "flows/by_name.py", source)
    found = inspect_flow(tmp_path, "flows/by_name.py:cleanup").parameter_schema
    assert set(found["definitions"]) == {"Bucket", "Cleanup", "Level"}
    # What `prefect deploy` sends: it imports the flow, from the project folder. (Prefect's
    # source reader binds `import a.b` under the name "a.b", so it gives `config` {}.)
    sys.path.insert(0, str(tmp_path))
    assert found == prefect_from_import("flows.by_name", "cleanup")
    from_source = prefect_from_source(path, "cleanup")
    assert from_source["properties"]["bucket"] == found["properties"]["bucket"]


@pytest.mark.usefixtures("fresh_modules")
def test_a_library_that_is_not_installed_gives_what_prefect_gives(tmp_path: Path) -> None:
    path = write(tmp_path, "flows/lib.py", MISSING_LIBRARY)
    flow = inspect_flow(tmp_path, "flows/lib.py:lib")
    assert flow.parameter_schema == prefect_from_source(path, "lib")
    assert flow.notes == (
        "parameter 'thing' of flow 'lib' is annotated with a type from 'nosuchlib', which"
        " flowfleet does not import; its schema is {}, as Prefect makes it where 'nosuchlib'"
        " is not installed",
        "parameter 'frame' of flow 'lib' is annotated with a type from 'nosuchlib', which"
        " flowfleet does not import; its schema is {}, as Prefect makes it where 'nosuchlib'"
        " is not installed",
    )


def test_a_changed_model_module_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, "pipelines/__init__.py", "")
    models = write(tmp_path, "pipelines/models.py", MODELS)
    write(tmp_path, "pipelines/cleanup.py", FLOW_RELATIVE)
    first = inspect_flow(tmp_path, "pipelines/cleanup.py:cleanup").parameter_schema
    models.write_text(MODELS.replace("RETENTION = 30", "RETENTION = 45"), encoding="utf-8")
    second = inspect_flow(tmp_path, "pipelines/cleanup.py:cleanup").parameter_schema
    days = ("definitions", "Cleanup", "properties", "days_to_keep", "default")
    assert [_get(s, days) for s in (first, second)] == [30, 45]


def _get(schema: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        schema = schema[key]
    return schema


def test_values_are_checked_against_a_model(tmp_path: Path) -> None:
    write(tmp_path, "pipelines/__init__.py", "")
    write(tmp_path, "pipelines/models.py", MODELS)
    write(tmp_path, "pipelines/cleanup.py", FLOW_RELATIVE)
    flow = inspect_flow(tmp_path, "pipelines/cleanup.py:cleanup")
    good = {"config": {"days_to_keep": 30, "bucket": {"name": "b"}}}
    assert check_parameters(flow, good, enforce_schema=True) == []
    bad = {"config": {"days_to_keep": "thirty"}}
    for enforce in (True, False):
        [problem] = check_parameters(flow, bad, enforce_schema=enforce)
        assert problem.parameter == "config"
        assert "'config['days_to_keep']' of flow 'cleanup': expected integer" in problem.message
        assert problem.message.endswith("found 'thirty' (a string)")
    [extra] = check_parameters(flow, {"config": {"days": 1}}, enforce_schema=False)
    assert extra.parameter == "config"


BLOCKS = '''
from typing import Optional

import prefect_aws
from prefect import flow
from prefect.blocks import system
from prefect.blocks.system import Secret
from pydantic import BaseModel


class Warehouse(BaseModel):
    """Connection settings, with a secret inside."""

    password: Secret
    user: str = "etl"


@flow
def blocks(
    secret: Secret,
    maybe: Optional[Secret] = None,
    creds: Optional[prefect_aws.AwsCredentials] = None,
    warehouse: Optional[Warehouse] = None,
    label: Optional[system.Secret] = None,
    n: int = 1,
):
    pass
'''

MISSING_COLLECTION = """
from typing import Optional

from prefect import flow
from prefect.blocks.system import NoSuchBlockType
from prefect_nosuchcollection import NoSuchBlock


@flow
def missing(block: NoSuchBlock, maybe: Optional[NoSuchBlock] = None, gone: NoSuchBlockType = None):
    pass
"""


@pytest.fixture
def collections_loaded() -> None:
    """prefect_aws imported before fresh_modules looks: forgetting it would make its block
    types register twice (a warning) when a later test imports it again."""
    importlib.import_module("prefect_aws")


@pytest.mark.usefixtures("collections_loaded", "fresh_modules")
def test_block_types_give_prefects_schema(tmp_path: Path) -> None:
    """Blocks (a parameter, Optional, inside a model, from prefect_aws, through a module
    attribute) get Prefect's $ref and block definitions; read without importing prefect
    here (the installed package is asked in a subprocess, once per installed versions)."""
    path = write(tmp_path, "flows/with_blocks.py", BLOCKS)
    flow = inspect_flow(tmp_path, "flows/with_blocks.py:blocks")
    found = flow.parameter_schema
    definitions = found["definitions"]
    assert found["properties"]["secret"]["$ref"] == "#/definitions/Secret"
    assert definitions["Secret"]["block_type_slug"] == "secret"
    assert definitions["AwsCredentials"]["block_type_slug"] == "aws-credentials"
    assert definitions["AwsCredentials"]["secret_fields"] == ["aws_secret_access_key"]
    assert definitions["Warehouse"]["properties"]["password"] == {"$ref": "#/definitions/Secret"}
    assert flow.notes == ()
    assert found == prefect_from_source(path, "blocks")
    sys.path.insert(0, str(path.parent))
    assert found == prefect_from_import("with_blocks", "blocks")


@pytest.mark.usefixtures("fresh_modules")
def test_a_collection_that_is_not_installed_gives_what_prefect_gives(tmp_path: Path) -> None:
    path = write(tmp_path, "flows/missing.py", MISSING_COLLECTION)
    flow = inspect_flow(tmp_path, "flows/missing.py:missing")
    assert flow.parameter_schema["properties"]["block"] == {"position": 0, "title": "block"}
    assert flow.parameter_schema == prefect_from_source(path, "missing")
    assert flow.notes[0] == (
        "parameter 'block' of flow 'missing' is annotated with a type from"
        " 'prefect_nosuchcollection', which flowfleet does not import; its schema is {}, as"
        " Prefect makes it where 'prefect_nosuchcollection' is not installed"
    )
    assert flow.notes[2] == (
        "parameter 'gone' of flow 'missing' is annotated with a type from 'prefect' that the"
        " installed Prefect does not have as a block type or model; its schema is {}, as"
        " Prefect makes it where it cannot import the type"
    )


def test_block_schemas_are_cached_per_installed_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowfleet.flows import blocks

    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(tmp_path / "cache"))
    blocks._answer.cache_clear()
    asked: list[str] = []
    real = blocks._ask

    def ask(module: str, name: str) -> dict[str, Any] | None:
        asked.append(f"{module}.{name}")
        return real(module, name)

    monkeypatch.setattr(blocks, "_ask", ask)
    first = blocks.stand_in("prefect.blocks.system", "Secret")
    blocks._answer.cache_clear()  # a later process: only the disk cache is left
    second = blocks.stand_in("prefect.blocks.system", "Secret")
    assert first is not None and first is second
    assert asked == ["prefect.blocks.system.Secret"]
    [cached] = (tmp_path / "cache" / "blocks").iterdir()
    assert cached.name.startswith("prefect.blocks.system.Secret-")
    monkeypatch.setattr(blocks, "_version", lambda name: "0.0.1")  # another Prefect
    assert blocks._cache_path("prefect.blocks.system", "Secret", blocks._versions("prefect"))
    assert blocks._versions("prefect_aws") == ("prefect==0.0.1", "prefect_aws==0.0.1")
    blocks._answer.cache_clear()


def test_a_class_that_is_no_model_is_not_a_stand_in() -> None:
    from flowfleet.flows import blocks

    assert blocks.stand_in("prefect.blocks.core", "no_such_name") is None
    assert blocks.stand_in("prefect_nosuchcollection", "Thing") is None


UUID = "6f1c6b7e-0000-4000-8000-000000000000"
REFERENCE_CASES = [  # value, the server accepts it (enforced schema), a run can start with it
    ({"secret": {"$ref": {"block_document_slug": "secret/db"}}}, True, True),
    ({"secret": {"$ref": {"block_document_id": UUID}}}, True, True),
    ({"secret": {"$ref": UUID}}, True, True),
    ({"secret": {"$ref": "not-a-uuid"}}, True, False),
    ({"secret": {"$ref": {"block_document_slug": "db"}}}, True, False),
    ({"secret": {"$ref": {"name": "db"}}}, True, False),
    ({"secret": {"value": "s3cr3t"}}, True, True),
    ({"secret": "s3cr3t"}, False, False),
    ({"secret": {"value": "x"}, "creds": {"region_name": "eu-west-1"}}, True, True),
    # A reference also passes as the fields of a block whose fields are all optional: the
    # server's oneOf refuses it (the run itself could load it).
    ({"secret": {"value": "x"}, "creds": {"$ref": {"block_document_id": UUID}}}, False, True),
    ({"secret": {"value": "x"}, "warehouse": {"password": {"$ref": UUID}}}, True, True),
    ({"secret": {"value": "x"}, "warehouse": {"user": "etl"}}, False, False),
]


@pytest.mark.usefixtures("fresh_modules")
def test_block_values_are_checked_as_prefect_checks_them(tmp_path: Path) -> None:
    from prefect.utilities.schema_tools.validation import ValidationError, validate

    write(tmp_path, "flows/with_blocks.py", BLOCKS)
    flow = inspect_flow(tmp_path, "flows/with_blocks.py:blocks")
    for values, server_accepts, run_starts in REFERENCE_CASES:
        try:
            validate(values, flow.parameter_schema, raise_on_error=True)
            prefect_server = True
        except ValidationError:
            prefect_server = False
        assert prefect_server == server_accepts, values
        at_run = check_parameters(flow, values, enforce_schema=False)
        enforced = check_parameters(flow, values, enforce_schema=True)
        assert (at_run == [], enforced == []) == (run_starts, server_accepts and run_starts), (
            values,
            at_run,
            enforced,
        )


def test_the_block_types_of_a_flow_are_asked_about_in_one_subprocess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowfleet.flows import blocks

    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(tmp_path / "cache"))
    blocks._answer.cache_clear()
    calls: list[list[tuple[str, str]]] = []
    real = blocks._ask_many

    def ask_many(pairs: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        calls.append(pairs)
        return real(pairs)

    monkeypatch.setattr(blocks, "_ask_many", ask_many)
    source = BLOCKS.replace("class Warehouse(BaseModel)", "class Warehouse")
    write(tmp_path, "flows/two.py", source.replace("password: Secret", "password: str"))
    flow = inspect_flow(tmp_path, "flows/two.py:blocks")
    assert {"Secret", "AwsCredentials"} <= flow.parameter_schema["definitions"].keys()
    assert calls == [
        [("prefect.blocks.system", "Secret"), ("prefect_aws", "AwsCredentials")],
    ]
    blocks._answer.cache_clear()
