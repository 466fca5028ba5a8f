"""flowfleet.flows.inspect: static flow inspection and parameter checks, compared with Prefect.

Prefect is imported only inside the tests that compare with it (flowfleet.flows.inspect never does).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowfleet.config.document import YamlFloat, YamlInt
from flowfleet.flows.inspect import (
    EntrypointError,
    Flow,
    ParameterProblem,
    check_parameters,
    inspect_flow,
)
from flowfleet.flows.prefect_rules import installed_rules, rules_for

# Prefect before 3.5 puts a Field(...) default itself into the schema, which pydantic warns of.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Default value .* is not JSON serializable:UserWarning"
)

# --- Sample flows, compared with Prefect -----------------------------------------------------

BASIC = """
from datetime import date, datetime
from typing import Any, Literal, Optional

from prefect import flow


@flow
def basic(
    count: int,
    label: str,
    ratio: float,
    dry_run: bool,
    tags: list[str],
    options: dict[str, Any],
    limit: Optional[int],
    offset: int | None,
    mode: Literal["a", "b"],
    start: datetime,
    day: date,
    retries: int = -1,
    pair: tuple = (1, "x"),
    nothing=None,
    *,
    verbose: bool = False,
    scale: float = 2.5,
    note: "str" = "n",
):
    pass
"""

ALIASES = """
from __future__ import annotations

import datetime as dt
import typing
import typing as t
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Dict as D, List
from uuid import UUID

import prefect


@prefect.flow(name="aliased flow")
def aliases(
    a: t.Optional[t.List[int]],
    b: dt.date,
    c: "int",
    d: D[str, List[float]],
    e: Sequence[str] = (),
    f: Mapping[str, int] = {},
    g: dt.timedelta | None = None,
    h: Decimal = 1,
    i: Path = "out",
    j: UUID | None = None,
    k: typing.Union[int, str] = 0,
    l: type(None) = None,
    m: t.Tuple[int, str] = (1, "a"),
    n: set[int] = {1},
    o: frozenset[str] = frozenset(),
    p: bytes = b"x",
    q: dt.timedelta = dt.timedelta(hours=1),
    r: complex = 1j,
):
    pass
"""

UNKNOWN = """
import pandas as pd
from mylib import Thing
from prefect import flow


class Local:
    pass


@flow
def unknown(frame: pd.DataFrame, thing: Thing, local: Local, items: list[Thing] = []):
    pass
"""

DOCSTRINGS = '''
from prefect import flow


@flow(log_prints=True)
def documented(a: int, b: str = "x", c: float = 1.0, d: int = 0, *, e: bool = True):
    """Summary line.

    Some text with a colon: here.

    Args:
        a: The a.
        b (str): The b,
            continued.

          Oddly indented.
        c:
        missing: not a parameter
        d has no colon

    Returns:
        Nothing.
    """


@flow
def documented_twice(a: int, b: int = 0):
    """Summary.

    ```
    Args:
        a: inside a code fence
    ```

    Args:
        a: first section

    Note:
        Args:
            b: inside an admonition

    Parameters:
        b: last section wins
    """


@flow
def not_a_section(a: int):
    """Args:
        a: the first line of a docstring is never a section title
    """
'''

ENUMS = '''
import enum
from enum import Enum
from typing import Literal

from prefect import flow

Mode = Literal["fast", "slow"]


class Color(str, Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    """How loud.

    Very.
    """

    LOW = 1
    HIGH = 2


@flow
def enums(color: Color, level: Level = Level.HIGH, mode: Mode = "fast", many: list[Color] = []):
    pass
'''

NAMES = """
from prefect import flow


@flow(validate_parameters=False)  # Prefect cannot validate a parameter named model_config
def names(self, schema: str, model_config: int = 1, copy: bool = False, json: str = "{}"):
    pass
"""

VARIADIC = """
from prefect import flow


@flow
def kw(a: int, b: str = "x", **kwargs):
    pass


@flow
def va(a: int, *args):
    pass


@flow
async def empty():
    pass


@flow
def annotated(a: int, *args: int, **kwargs: "list[str]"):
    pass
"""

# Prefect's parameter_schema_from_entrypoint leaves string annotations to pydantic, which cannot
# resolve "dt.timedelta" (Any); the imported flow resolves them, and so does flowfleet.
STRINGS = """
import datetime as dt
from typing import Optional

from prefect import flow


@flow
def strings(a: "dt.timedelta | None", b: "Optional[list[int]]" = None, c: "int" = 1):
    pass
"""

# Prefect's parameter_schema_from_entrypoint crashes on these ("non-default argument follows
# default argument", "keyword-only parameter before variadic positional parameter"); they are
# compared with the schema Prefect makes from the imported function, as `prefect deploy` does.
SIGNATURE_ORDER = """
from prefect import flow


@flow
def posonly(a: int, /, b: str, c: int = 2, *, d: bool = True):
    pass


@flow
def star(a: int, *args, b: str = "x", **kwargs):
    pass
"""

# Prefect 3.5 and later take a Field(...) default's value, description and extra keys; before,
# the schema has no default (and a run that uses it fails: see CHECKED's "fielded").
FIELDS = """
import pydantic
from pydantic import Field
from prefect import flow


@flow
def fields(
    a: int = Field(default=1, description="from Field"),
    b: str = pydantic.Field("x", json_schema_extra={"k": 1}),
    c: int = Field(default=0, json_schema_extra={"position": 9}),
    d: int = Field(description="no default"),
    e: list[int] = Field([1, 2], title="ignored", ge=0),
):
    \"\"\"Args:
        a: from the docstring
        b: from the docstring
    \"\"\"
"""

ENTRYPOINT_CASES = [
    (BASIC, "basic"),
    (ALIASES, "aliases"),
    (UNKNOWN, "unknown"),
    (DOCSTRINGS, "documented"),
    (DOCSTRINGS, "documented_twice"),
    (DOCSTRINGS, "not_a_section"),
    (ENUMS, "enums"),
    (NAMES, "names"),
    (VARIADIC, "kw"),
    (VARIADIC, "va"),
    (VARIADIC, "empty"),
    (VARIADIC, "annotated"),
    (FIELDS, "fields"),
]
IMPORTED_CASES = [
    case
    for case in ENTRYPOINT_CASES
    if case[0] is not UNKNOWN  # its imports do not exist
] + [(STRINGS, "strings"), (SIGNATURE_ORDER, "posonly"), (SIGNATURE_ORDER, "star")]


@pytest.fixture(scope="session")
def variadics_optional() -> bool:
    """Whether the installed Prefect leaves *args / **kwargs out of `required` (3.9 and later)."""
    from prefect.utilities.callables import parameter_schema

    def variadic(*args: Any, **kwargs: Any) -> None: ...

    return not parameter_schema(variadic).required


@pytest.fixture(scope="session")
def field_defaults() -> bool:
    """Whether the installed Prefect takes the value of a `Field(...)` default (3.5 and later)."""
    from prefect.utilities.callables import parameter_schema
    from pydantic import Field

    def defaulted(a: int = Field(default=1)) -> None: ...

    with warnings.catch_warnings():  # before 3.5: "Default value ... is not JSON serializable"
        warnings.simplefilter("ignore")
        return "default" in parameter_schema(defaulted).properties["a"]


def test_installed_rules_are_those_of_the_installed_prefect(
    variadics_optional: bool, field_defaults: bool
) -> None:
    rules = installed_rules()
    assert (rules.variadic_defaults, rules.field_defaults) == (variadics_optional, field_defaults)


@pytest.mark.parametrize(
    ("version", "variadic_defaults", "field_defaults"),
    [
        ("3.4.25", False, False),
        ("3.4.26.dev4", False, False),
        ("3.4.26.dev5", False, True),
        ("3.5.0", False, True),
        ("3.8.8", False, True),
        ("3.8.9.dev5", False, True),
        ("3.8.9.dev6", True, True),
        ("3.9.0", True, True),
        ("3.9.1+g0123abc", True, True),
        ("4.0.0", True, True),
        (None, True, True),  # no Prefect installed: the newest rules
        ("not a version", True, True),
    ],
)
def test_rules_of_each_prefect_version(
    version: str | None, variadic_defaults: bool, field_defaults: bool
) -> None:
    rules = rules_for(version)
    assert (rules.variadic_defaults, rules.field_defaults) == (variadic_defaults, field_defaults)


def write(root: Path, source: str, name: str = "flows/sample.py") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def import_file(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"flowfleet_test_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("source", "function"), ENTRYPOINT_CASES, ids=[f for _, f in ENTRYPOINT_CASES]
)
def test_schema_equals_prefect_from_entrypoint(tmp_path: Path, source: str, function: str) -> None:
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    path = write(tmp_path, source)
    # What Prefect sends as parameter_openapi_schema (RunnerDeployment: exclude_unset=True).
    expected = parameter_schema_from_entrypoint(f"{path}:{function}").model_dump(exclude_unset=True)
    assert inspect_flow(tmp_path, f"flows/sample.py:{function}").parameter_schema == expected


@pytest.mark.filterwarnings("ignore:Field name .* shadows an attribute:UserWarning")
@pytest.mark.parametrize(("source", "function"), IMPORTED_CASES, ids=[f for _, f in IMPORTED_CASES])
def test_schema_equals_prefect_from_imported_flow(
    request: pytest.FixtureRequest,
    variadics_optional: bool,
    tmp_path: Path,
    source: str,
    function: str,
) -> None:
    from prefect.utilities.callables import parameter_schema

    path = write(tmp_path, source)
    expected = parameter_schema(getattr(import_file(path), function)).model_dump(exclude_unset=True)
    if function == "annotated" and not variadics_optional:
        # Before 3.9, Prefect's two readers disagree on annotated *args / **kwargs (the source
        # reader ignores the annotations); flowfleet follows the source reader there.
        request.applymarker(
            pytest.mark.xfail(reason="Prefect < 3.9: readers disagree", strict=True)
        )
    assert inspect_flow(tmp_path, f"flows/sample.py:{function}").parameter_schema == expected


def test_schema_of_a_simple_flow_exactly(tmp_path: Path) -> None:
    write(tmp_path, 'from prefect import flow\n\n@flow\ndef f(a: int, b: str = "x"): ...\n')
    assert inspect_flow(tmp_path, "flows/sample.py:f").parameter_schema == {
        "title": "Parameters",
        "type": "object",
        "properties": {
            "a": {"title": "a", "position": 0, "type": "integer"},
            "b": {"title": "b", "position": 1, "type": "string", "default": "x"},
        },
        "required": ["a"],
    }


# Property schemas where flowfleet cannot do what Prefect does without running code.
# Prefect evaluates `compute()` (or, from source, uses None) and keeps Field() metadata.
PROPERTY_CASES = [
    ("a: int = compute()", {"type": "integer"}),
    ("a=compute()", {}),
    ("a: Annotated[int, Field(ge=1)] = 1", {"type": "integer", "default": 1}),
    ("a: Shadowed = None", {"default": None}),
    ("a: list[Shadowed] = None", {"default": None}),
    ("a: 'no such' = 1", {"default": 1}),
    ("a: Local = 1", {"default": 1}),
    ("a: Alias = 1", {"type": "integer", "default": 1}),
    ("a: Later = 1", {"default": 1}),
    ("a: Color = Color.RED", {"$ref": "#/definitions/Color", "default": "r"}),
    ("a: Auto = None", {"default": None}),
    ("a: date = date(2024, 1, 31)", {"type": "string", "format": "date", "default": "2024-01-31"}),
    ("a: int = int('nope')", {"type": "integer"}),
    ("a: int = len('abc')", {"type": "integer"}),
]
PROPERTY_MODULE = """
from datetime import date
from enum import Enum, auto
from typing import Annotated
from pydantic import Field
from prefect import flow
from mylib import Shadowed

Alias = int
Later = int
Later = compute()


class Local:
    pass


class Color(Enum):
    RED = "r"


class Auto(Enum):
    X = auto()


@flow
def f({signature}):
    pass
"""


@pytest.mark.parametrize(("signature", "expected"), PROPERTY_CASES)
def test_property_schema_without_running_code(
    tmp_path: Path, signature: str, expected: dict[str, Any]
) -> None:
    write(tmp_path, PROPERTY_MODULE.format(signature=signature))
    schema = inspect_flow(tmp_path, "flows/sample.py:f").parameter_schema
    name = next(iter(schema["properties"]))
    assert schema["properties"][name] == {"title": name, "position": 0, **expected}
    assert schema.get("required", []) == ([name] if "=" not in signature else [])


# --- Flow names and decorators --------------------------------------------------------------

NAME_CASES = [
    ("from prefect import flow\n@flow\ndef my_flow(): ...", "my-flow"),
    ("from prefect import flow\n@flow()\ndef my_flow(): ...", "my-flow"),
    ("from prefect import flow\n@flow(name='etl')\ndef my_flow(): ...", "etl"),
    ("from prefect import flow\n@flow(name=None, retries=2)\ndef my_flow(): ...", "my-flow"),
    ("from prefect import flow\n@flow(name='')\ndef my_flow(): ...", "my-flow"),
    ("from prefect import flow\n@flow(name='a' 'b')\nasync def my_flow(): ...", "ab"),
    ("import prefect\n@prefect.flow\ndef my_flow(): ...", "my-flow"),
    ("import prefect as p\n@p.flow(name='x')\ndef my_flow(): ...", "x"),
    ("from prefect import flow as f\n@f(name='x')\ndef my_flow(): ...", "x"),
    ("from prefect.flows import flow\n@flow\ndef my_flow(): ...", "my-flow"),
    ("from prefect import *\n@task\n@flow\ndef my_flow(): ...", "my-flow"),
    ("@flow\ndef first(): ...\n@flow(name='second')\ndef my_flow(): ...", "second"),
    # Constant expressions that need no code to run (issue 13).
    ("from prefect import flow\nNAME = 'x'\n@flow(name=NAME)\ndef my_flow(): ...", "x"),
    ("from prefect import flow\n@flow(name=f'constant-name')\ndef my_flow(): ...", "constant-name"),
    ("from prefect import flow\n@flow(name=f'x-{1}')\ndef my_flow(): ...", "x-1"),
    ("B = 'etl'\nE = 'prod'\n@flow(name=f'{B}-{E!r}-' + 'x')\ndef my_flow(): ...", "etl-'prod'-x"),
    ("A = 'a'\nB = A + '-b'\n@flow(name=B + '-c')\ndef my_flow(): ...", "a-b-c"),
]


@pytest.mark.parametrize(("source", "name"), NAME_CASES)
def test_flow_name(tmp_path: Path, source: str, name: str) -> None:
    write(tmp_path, source)
    found = inspect_flow(tmp_path, "flows/sample.py:my_flow")
    assert (found.name, found.function) == (name, "my_flow")


DECORATOR_ERRORS = [
    (
        "def my_flow(): ...",
        "flows/sample.py line 1: function 'my_flow' is not a Prefect flow (decorators: none);"
        " decorate it with @flow (from prefect import flow)",
    ),
    (
        "from prefect import task\n@task(retries=2)\ndef my_flow(): ...",
        "flows/sample.py line 3: function 'my_flow' is not a Prefect flow"
        " (decorators: @task(retries=2)); decorate it with @flow (from prefect import flow)",
    ),
    (
        "from other import flow\n@flow\ndef my_flow(): ...",
        "flows/sample.py line 3: function 'my_flow' is not a Prefect flow (decorators: @flow);"
        " decorate it with @flow (from prefect import flow)",
    ),
    (
        "from prefect import flow\nimport os\n@flow(name=os.environ['N'])\ndef my_flow(): ...",
        "flows/sample.py line 4: the flow name of 'my_flow' is os.environ['N'], which flowfleet"
        " cannot know without running code; write it as a string (a literal, a module-level"
        ' NAME = "..." constant, or an f-string or + of those): name="..."',
    ),
    (
        "from prefect import flow\n@flow(name=f'x-{get()}')\ndef my_flow(): ...",
        "flows/sample.py line 3: the flow name of 'my_flow' is f'x-{get()}', which flowfleet"
        " cannot know without running code; write it as a string (a literal, a module-level"
        ' NAME = "..." constant, or an f-string or + of those): name="..."',
    ),
    (
        "from prefect import flow\n@flow(**OPTIONS)\ndef my_flow(): ...",
        "flows/sample.py line 3: @flow(**...) of 'my_flow' may set the flow name; flowfleet"
        ' reads flows without running them, so it needs a literal name="..." next to it',
    ),
    (
        "from prefect import flow\n@flow('etl')\ndef my_flow(): ...",
        "flows/sample.py line 3: @flow of 'my_flow' is given a positional argument; pass"
        ' options by keyword, e.g. @flow(name="...")',
    ),
    (
        "from prefect import flow\n@flow(name='a/b<c')\ndef my_flow(): ...",
        "flows/sample.py line 3: flow name 'a/b<c' contains / <; Prefect rejects flow names"
        " containing any of / % & > <",
    ),
    (
        "from prefect import flow\n@flow\ndef my_flow(a, model_config=1): ...",
        "flows/sample.py line 3: Prefect cannot validate the parameters of 'my_flow' (it"
        " rejects a parameter named 'model_config'); rename the parameter or use"
        " @flow(validate_parameters=False)",
    ),
    (
        "from prefect import flow\n@flow\ndef my_flow(a, v__args=1): ...",
        "flows/sample.py line 3: Prefect cannot validate the parameters of 'my_flow' (it"
        " rejects a parameter named 'v__args'); rename the parameter or use"
        " @flow(validate_parameters=False)",
    ),
    (
        "from prefect import flow\n@flow\ndef my_flow(a, _b): ...",
        "flows/sample.py line 3: parameter '_b' starts with an underscore, which Prefect cannot"
        " put in a parameter schema (pydantic rejects such field names); rename it",
    ),
]


@pytest.mark.parametrize(("source", "message"), DECORATOR_ERRORS)
def test_decorator_errors(tmp_path: Path, source: str, message: str) -> None:
    write(tmp_path, source)
    with pytest.raises(EntrypointError) as caught:
        inspect_flow(tmp_path, "flows/sample.py:my_flow")
    assert str(caught.value) == message


# --- Entrypoint errors -------------------------------------------------------------------

SHAPE = "expected PATH.py:FUNCTION, e.g. 'flows/etl.py:my_flow'"
FLOW = "from prefect import flow\n\n@flow\ndef hello(): ...\n"
ENTRYPOINT_ERRORS = [
    ("flows/hello.py", f"entrypoint 'flows/hello.py' has no ':FUNCTION' part; {SHAPE}"),
    (
        "flows/hello.py:",
        f"entrypoint 'flows/hello.py:' names no function after ':'; {SHAPE}"
        " (add the name of the flow function: 'flows/hello.py:my_flow')",
    ),
    (":hello", f"entrypoint ':hello' names no file before ':'; {SHAPE}"),
    (
        "flows/hello.py:say-hello",
        "entrypoint 'flows/hello.py:say-hello': 'say-hello' is not a Python function name;"
        f" {SHAPE}",
    ),
    (
        "flows/hello.py:class",
        f"entrypoint 'flows/hello.py:class': 'class' is not a Python function name; {SHAPE}",
    ),
    (
        "/abs/hello.py:hello",
        "entrypoint '/abs/hello.py:hello' uses an absolute path; write the path relative to the"
        " project folder (the folder of the config file)",
    ),
    (
        "flows/hello.txt:hello",
        "entrypoint 'flows/hello.txt:hello': 'flows/hello.txt' is not a .py file; expected"
        " PATH.py:FUNCTION with the path of the Python file that defines the flow",
    ),
    (
        "flows.helo:hello",
        "entrypoint 'flows.helo:hello' names module 'flows.helo', which is not a file under"
        " the project folder (looked for flows/helo.py, flows/helo/__init__.py and the same"
        " under src/); write the path of the flow file, e.g. 'flows/etl.py:my_flow'",
    ),
    (
        "flows/helo.py:hello",
        "flow file 'flows/helo.py' does not exist; did you mean 'flows/hello.py'?",
    ),
    (
        "flows/folder.py:hello",
        "flow file 'flows/folder.py' is a folder, not a file",
    ),
    (
        "flows/hello.py:helo",
        "flows/hello.py has no top-level function 'helo'; did you mean 'hello'?",
    ),
    ("flows/hello.py:zzz", "flows/hello.py has no top-level function 'zzz'; it defines: hello"),
    (
        "flows/empty.py:hello",
        "flows/empty.py has no top-level function 'hello'; it defines no top-level functions",
    ),
    ("flows/syntax.py:hello", "flows/syntax.py line 3: invalid syntax"),
    (
        "flows/latin1.py:hello",
        "flows/latin1.py line 2: not valid UTF-8 (byte 0xe9); save it as UTF-8",
    ),
    (
        "flows/nul.py:hello",
        "flows/nul.py: source code string cannot contain null bytes",
    ),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, FLOW, "flows/hello.py")
    write(tmp_path, "x = 1\n", "flows/empty.py")
    write(tmp_path, "from prefect import flow\n\ndef hello(:\n    pass\n", "flows/syntax.py")
    (tmp_path / "flows/latin1.py").write_bytes(b"# ok\nname = 'caf\xe9'\n")
    (tmp_path / "flows/nul.py").write_bytes(b"x = 1\0\n")
    (tmp_path / "flows/folder.py").mkdir()
    return tmp_path


@pytest.mark.parametrize(("entrypoint", "message"), ENTRYPOINT_ERRORS)
def test_entrypoint_errors(project: Path, entrypoint: str, message: str) -> None:
    with pytest.raises(EntrypointError) as caught:
        inspect_flow(project, entrypoint)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("entrypoint", "file"),
    [
        ("flows.hello:hello", "flows/hello.py"),
        ("pipelines.daily:hello", "src/pipelines/daily.py"),
        ("pipelines:hello", "src/pipelines/__init__.py"),
    ],
)
def test_module_entrypoints_are_read_from_the_project(
    project: Path, entrypoint: str, file: str
) -> None:
    """Prefect imports `module.path:function` entrypoints; flowfleet reads the module's file
    under the project folder (or its src/ folder) the same way as a path."""
    write(project, FLOW, file)
    assert inspect_flow(project, entrypoint) == inspect_flow(project, f"{file}:hello")


def test_missing_file_without_a_close_match_names_the_project_folder(project: Path) -> None:
    with pytest.raises(EntrypointError) as caught:
        inspect_flow(project, "other/zzz.py:hello")
    assert str(caught.value) == (
        "flow file 'other/zzz.py' does not exist (entrypoint paths are relative to the project"
        f" folder {project.resolve()})"
    )


@pytest.mark.parametrize("written", ["../outside.py", "flows/../../outside.py", "link.py"])
def test_entrypoint_leaving_the_project_folder(tmp_path: Path, written: str) -> None:
    project = tmp_path / "project"
    write(tmp_path, FLOW, "outside.py")
    write(project, FLOW, "flows/hello.py")
    (project / "link.py").symlink_to(tmp_path / "outside.py")
    with pytest.raises(EntrypointError) as caught:
        inspect_flow(project, f"{written}:hello")
    assert str(caught.value) == (
        f"entrypoint '{written}:hello' leaves the project folder: {written!r} resolves to"
        f" {tmp_path.resolve() / 'outside.py'}, outside {project.resolve()};"
        " keep flow files inside the project folder"
    )


def test_symlink_inside_the_project_is_fine_and_reported_by_its_target(tmp_path: Path) -> None:
    write(tmp_path, "from prefect import flow\n\n@flow\ndef hello(:\n", "lib/real.py")
    (tmp_path / "link.py").symlink_to(tmp_path / "lib/real.py")
    with pytest.raises(EntrypointError, match=r"^lib/real\.py line 4: "):
        inspect_flow(tmp_path, "link.py:hello")


# --- Caching -------------------------------------------------------------------------------


def test_each_file_is_parsed_once_per_modification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = ast.parse

    def counting_parse(source: str, filename: str = "<unknown>", **kwargs: Any) -> Any:
        parsed.append(filename)
        return real_parse(source, filename, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    path = write(tmp_path, FLOW + "\n@flow\ndef other(): ...\n", "flows/hello.py")
    first = inspect_flow(tmp_path, "flows/hello.py:hello")
    for _ in range(3):
        assert inspect_flow(tmp_path, "flows/hello.py:hello") is first
        assert inspect_flow(tmp_path, "./flows/hello.py:other").name == "other"
        with pytest.raises(EntrypointError):
            inspect_flow(tmp_path, "flows/hello.py:nope")
    assert parsed == ["flows/hello.py"]

    path.write_text(FLOW.replace("@flow", "@flow(name='renamed')"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert inspect_flow(tmp_path, "flows/hello.py:hello").name == "renamed"
    assert parsed == ["flows/hello.py", "flows/hello.py"]


def test_flow_is_hashable_and_compares_by_public_fields(tmp_path: Path) -> None:
    write(tmp_path, FLOW, "flows/hello.py")
    found = inspect_flow(tmp_path, "flows/hello.py:hello")
    by_hand = Flow("hello", "hello", found.parameter_schema)
    assert found == by_hand and hash(found) == hash(by_hand)
    assert repr(by_hand) == (
        "Flow(name='hello', function='hello', parameter_schema="
        "{'title': 'Parameters', 'type': 'object', 'properties': {}})"
    )


def test_importing_flowfleet_flows_does_not_import_prefect() -> None:
    code = (
        "import flowfleet.flows.inspect, sys; "
        "print('prefect' in sys.modules, 'jsonschema' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


# --- check_parameters --------------------------------------------------------------------

CHECKED = """
import datetime
from enum import Enum
from typing import Any, Literal, Optional

from prefect import flow
from pydantic import Field


class Color(str, Enum):
    RED = "red"
    BLUE = "blue"


@flow(name="hello")
def hello(number: int, name: str):
    pass


@flow(name="types")
def types(
    count: int = 0,
    ratio: float = 1.0,
    items: list[int] = [],
    pairs: dict[str, int] = {},
    maybe: Optional[int] = None,
    either: int | str = 0,
    mode: Literal["a", "b"] = "a",
    when: datetime.date = datetime.date(2024, 1, 31),
    point: tuple[int, str] = (0, ""),
    flag: bool = False,
    later: int = compute(),
    nested: list[Optional[int]] = [],
    unique: set[int] = set(),
    color: Color = Color.RED,
):
    pass


@flow(name="po")
def po(a: int, /, b: int = 1):
    pass


@flow(name="bad_default")
def bad_default(x: int = None, y: list[str] = [1], z: str = text()):
    pass


@flow(name="va2")
def va2(a: int, b: int = 1, *args):
    pass


@flow(name="kw")
def kw(a: int, **kwargs):
    pass


@flow(name="va")
def va(a: int, *args):
    pass


@flow(name="fielded")
def fielded(a: int = Field(default=1), b: Any = Field(default=None)):
    pass


@flow(name="nothing")
def nothing():
    pass


@flow(name="unchecked", validate_parameters=False)
def unchecked(a: int, b: str = "x"):
    pass


@flow(name="names")
def names(schema: str = "", json: int = 0):
    pass
"""
CHECKED_HELPERS = "def compute():\n    return 1\n\n\ndef text():\n    return 't'\n"


def problem(parameter: str | None, message: str) -> ParameterProblem:
    return ParameterProblem(parameter, message)


def wrong(flow: str, where: str, expected: str, found: str) -> str:
    return f"parameter '{where}' of flow '{flow}': expected {expected}, found {found}"


@dataclass(frozen=True)
class ByPrefect:
    """Problems that depend on the installed Prefect's rules for *args / **kwargs."""

    before_3_9: list[ParameterProblem]
    since_3_9: list[ParameterProblem]


Expected = list[ParameterProblem] | ByPrefect

# (function, parameters, enforce_schema, problems); None for enforce means both modes.
CHECK_CASES: list[tuple[str, dict[str, Any], bool | None, Expected]] = [
    ("hello", {"number": 1, "name": "x"}, None, []),
    (
        "hello",
        {"nme": "x", "number": 1},
        None,
        [
            problem("nme", "unknown parameter 'nme' for flow 'hello'; did you mean 'name'?"),
            problem("name", "missing required parameter 'name' of flow 'hello'"),
        ],
    ),
    (
        "hello",
        {"zzz": 1, "number": 1, "name": "x"},
        None,
        [
            problem(
                "zzz", "unknown parameter 'zzz' for flow 'hello'; flow 'hello' takes: number, name"
            )
        ],
    ),
    (
        "nothing",
        {"a": 1},
        None,
        [
            problem(
                "a", "unknown parameter 'a' for flow 'nothing'; flow 'nothing' takes no parameters"
            )
        ],
    ),
    ("hello", {"number": "5", "name": "x"}, False, []),
    (
        "hello",
        {"number": "5", "name": "x"},
        True,
        [problem("number", wrong("hello", "number", "integer", "'5' (a string)"))],
    ),
    (
        "hello",
        {"number": "abc", "name": 3},
        None,
        [
            problem("number", wrong("hello", "number", "integer", "'abc' (a string)")),
            problem("name", wrong("hello", "name", "string", "3 (an integer)")),
        ],
    ),
    ("hello", {"number": YamlInt(5), "name": "x"}, None, []),
    ("hello", {"number": YamlFloat(5.0), "name": "x"}, None, []),
    (
        "hello",
        {"number": YamlFloat(5.5), "name": "x"},
        None,
        [problem("number", wrong("hello", "number", "integer", "5.5 (a number)"))],
    ),
    ("hello", {"number": True, "name": "x"}, False, []),  # pydantic's lax mode: True is 1
    (
        "hello",
        {"number": True, "name": "x"},
        True,
        [problem("number", wrong("hello", "number", "integer", "true (a boolean)"))],
    ),
    (
        "hello",
        {"number": None, "name": "x"},
        None,
        [problem("number", wrong("hello", "number", "integer", "null"))],
    ),
    ("types", {"items": ["1", 2], "pairs": {"a": "3"}}, False, []),
    (
        "types",
        {"items": [1, "x", "y"]},
        None,
        [problem("items", wrong("types", "items[1]", "integer", "'x' (a string)"))],
    ),
    (
        "types",
        {"items": "1, 2"},
        None,
        [problem("items", wrong("types", "items", "list of integer items", "'1, 2' (a string)"))],
    ),
    (
        "types",
        {"pairs": {"a": 1, "b c": [2]}},
        None,
        [problem("pairs", wrong("types", "pairs['b c']", "integer", "[2] (a list)"))],
    ),
    ("types", {"maybe": None, "either": "x", "mode": "b", "when": "2024-02-29"}, None, []),
    (
        "types",
        {"maybe": "x", "either": [], "mode": "c"},
        None,
        [
            problem("maybe", wrong("types", "maybe", "integer or null", "'x' (a string)")),
            problem("either", wrong("types", "either", "integer or string", "[] (a list)")),
            problem("mode", wrong("types", "mode", "one of 'a', 'b'", "'c' (a string)")),
        ],
    ),
    (
        "types",
        {"when": "2023-02-29"},
        None,
        [problem("when", wrong("types", "when", "date string", "'2023-02-29' (a string)"))],
    ),
    (
        "types",
        {"point": [1, 2]},
        None,
        [problem("point", wrong("types", "point[1]", "string", "2 (an integer)"))],
    ),
    (
        "types",
        {"point": [1, "a", 3]},
        None,
        [
            problem(
                "point",
                wrong(
                    "types", "point", "list of 2 items (integer, string)", "[1, 'a', 3] (a list)"
                ),
            )
        ],
    ),
    (
        "types",
        {"flag": "yes", "ratio": {"x": None}},
        True,
        [
            problem("ratio", wrong("types", "ratio", "number", "{'x': null} (a mapping)")),
            problem("flag", wrong("types", "flag", "boolean", "'yes' (a string)")),
        ],
    ),
    (  # pydantic's lax mode reads "yes" as true
        "types",
        {"flag": "yes", "ratio": {"x": None}},
        False,
        [problem("ratio", wrong("types", "ratio", "number", "{'x': null} (a mapping)"))],
    ),
    (
        "types",
        {"point": [1]},
        None,
        [
            problem(
                "point",
                wrong("types", "point", "list of 2 items (integer, string)", "[1] (a list)"),
            )
        ],
    ),
    ("types", {"later": 3}, None, []),
    (
        "types",
        {"nested": "x", "pairs": 5, "color": "green"},
        None,
        [
            problem(
                "pairs", wrong("types", "pairs", "mapping with integer values", "5 (an integer)")
            ),
            problem(
                "nested",
                wrong("types", "nested", "list of (integer or null) items", "'x' (a string)"),
            ),
            problem("color", wrong("types", "color", "one of 'red', 'blue'", "'green' (a string)")),
        ],
    ),
    ("types", {"nested": [None, "2"], "color": "blue"}, False, []),
    ("types", {"unique": [1, 1]}, False, []),  # pydantic makes a set of it
    (
        "types",
        {"unique": [1, 1]},
        True,
        [
            problem(
                "unique",
                wrong("types", "unique", "list of unique integer items", "[1, 1] (a list)"),
            )
        ],
    ),
    ("po", {"a": 1, "b": "2"}, False, []),
    ("po", {"a": "x"}, None, [problem("a", wrong("po", "a", "integer", "'x' (a string)"))]),
    # A default flowfleet cannot evaluate: optional, and the server lets null through for it
    # (Prefect's preprocess_schema), but the flow itself then rejects it.
    (
        "types",
        {"later": None},
        None,
        [problem("later", wrong("types", "later", "integer", "null"))],
    ),
    (
        "types",
        {"count": "x" * 200},
        None,
        [problem("count", wrong("types", "count", "integer", "'" + "x" * 56 + "... (a string)"))],
    ),
    ("kw", {"a": 1}, False, []),
    ("kw", {"a": 1, "kwargs": {"c": 3}}, None, []),
    (
        "kw",
        {"a": 1},
        True,
        ByPrefect(
            before_3_9=[
                problem(
                    "kwargs",
                    "missing required parameter 'kwargs' of flow 'kw' (with"
                    " enforce_parameter_schema the Prefect server requires it; pass kwargs: {})",
                )
            ],
            since_3_9=[],
        ),
    ),
    (
        "kw",
        {"a": 1, "c": 3, "kwargs": {}},
        None,
        [
            problem(
                "c",
                "unknown parameter 'c' for flow 'kw'; flow 'kw' takes: a, kwargs"
                " (extra keyword arguments go inside 'kwargs')",
            )
        ],
    ),
    (
        "kw",
        {"a": 1, "kwargs": [1]},
        None,
        [problem("kwargs", wrong("kw", "kwargs", "mapping", "[1] (a list)"))],
    ),
    ("kw", {"a": 1, "kwargs": [["b", 1]]}, False, []),  # what dict.update accepts, ** accepts
    (  # ... but not the 3.9 schema's "type": "object"
        "kw",
        {"a": 1, "kwargs": [["b", 1]]},
        True,
        ByPrefect(
            before_3_9=[],
            since_3_9=[problem("kwargs", wrong("kw", "kwargs", "mapping", "[['b', 1]] (a list)"))],
        ),
    ),
    # Prefect binds named parameters given inside the **kwargs mapping (but the server's
    # schema, when enforced, wants them by name).
    ("kw", {"kwargs": {"a": "1", "b": 2}}, False, []),
    (
        "kw",
        {"kwargs": {"a": 1}},
        True,
        [
            problem("a", "missing required parameter 'a' of flow 'kw'"),
        ],
    ),
    (
        "kw",
        {"kwargs": {"a": "x"}},
        False,
        [problem("kwargs", wrong("kw", "kwargs['a']", "integer", "'x' (a string)"))],
    ),
    (
        "kw",
        {"a": 1, "kwargs": {"a": 2}},
        None,
        [
            problem(
                "kwargs",
                "parameter 'kwargs' of flow 'kw': 'a' is given twice, by name and inside 'kwargs'",
            )
        ],
    ),
    ("va", {"a": 1, "args": [1, "x"]}, None, []),
    ("va", {"a": 1, "args": "xy"}, False, []),  # Python iterates it: args == ("x", "y")
    (  # ... but not the 3.9 schema's "type": "array"
        "va",
        {"a": 1, "args": "xy"},
        True,
        ByPrefect(
            before_3_9=[],
            since_3_9=[problem("args", wrong("va", "args", "list", "'xy' (a string)"))],
        ),
    ),
    (  # Prefect 3.9 passes a list given for *args positionally, b taking its default
        "va2",
        {"a": 1, "args": [2]},
        None,
        ByPrefect(
            before_3_9=[
                problem(
                    None,
                    "flow 'va2' cannot be called with these parameters: got an unexpected"
                    " keyword argument 'args'",
                )
            ],
            since_3_9=[],
        ),
    ),
    ("va2", {"a": 1, "b": 2, "args": [2]}, None, []),
    (
        "bad_default",
        {},
        None,
        [
            problem(
                "x",
                wrong("bad_default", "x", "integer", "null")
                + " (its default, which Prefect validates too: pass a value)",
            ),
            problem(
                "y",
                wrong("bad_default", "y[0]", "string", "1 (an integer)")
                + " (its default, which Prefect validates too: pass a value)",
            ),
        ],
    ),
    ("bad_default", {"x": 1, "y": ["a"]}, None, []),
    (
        "va",
        {"a": 1},
        True,
        ByPrefect(
            before_3_9=[
                problem(
                    "args",
                    "missing required parameter 'args' of flow 'va' (with"
                    " enforce_parameter_schema the Prefect server requires it; pass args: [])",
                )
            ],
            since_3_9=[],
        ),
    ),
    (
        "va",
        {"a": 1, "args": 5},
        None,
        [problem("args", wrong("va", "args", "list", "5 (an integer)"))],
    ),
    ("unchecked", {"a": "not checked at run start"}, False, []),
    (
        "unchecked",
        {"a": "x"},
        True,
        [problem("a", wrong("unchecked", "a", "integer", "'x' (a string)"))],
    ),
    ("unchecked", {}, None, [problem("a", "missing required parameter 'a' of flow 'unchecked'")]),
    (
        "names",
        {"schema": 1, "json": "x"},
        None,
        [
            problem("schema", wrong("names", "schema", "string", "1 (an integer)")),
            problem("json", wrong("names", "json", "integer", "'x' (a string)")),
        ],
    ),
]


def expand_modes(
    cases: list[tuple[str, dict[str, Any], bool | None, Expected]],
) -> Iterator[tuple[str, dict[str, Any], bool, Expected]]:
    for function, parameters, enforce, expected in cases:
        for mode in (False, True) if enforce is None else (enforce,):
            yield function, parameters, mode, expected


@pytest.fixture(scope="module")
def checked_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("checked")
    write(root, CHECKED_HELPERS + CHECKED, "flows/checked.py")
    return root


@pytest.mark.parametrize(
    ("function", "parameters", "enforce", "expected"), list(expand_modes(CHECK_CASES))
)
def test_check_parameters(
    checked_project: Path,
    variadics_optional: bool,
    function: str,
    parameters: dict[str, Any],
    enforce: bool,
    expected: Expected,
) -> None:
    if isinstance(expected, ByPrefect):
        expected = expected.since_3_9 if variadics_optional else expected.before_3_9
    found = inspect_flow(checked_project, f"flows/checked.py:{function}")
    assert check_parameters(found, parameters, enforce_schema=enforce) == expected


def test_field_default_is_used_as_its_value_since_prefect_3_5(
    checked_project: Path, field_defaults: bool
) -> None:
    found = inspect_flow(checked_project, "flows/checked.py:fielded")
    problems = check_parameters(found, {}, enforce_schema=False)
    if field_defaults:
        assert problems == []
    else:  # Prefect 3.4 validates the FieldInfo object itself as an int
        assert [p.parameter for p in problems] == ["a"]
        assert problems[0].message.startswith(
            "parameter 'a' of flow 'fielded': expected integer, found FieldInfo("
        )
        assert problems[0].message.endswith(
            " (its default: Prefect before 3.5 passes a Field(...) default to the flow as it"
            " is; pass a value, or upgrade Prefect)"
        )


def test_check_parameters_of_a_flow_made_from_a_schema_alone() -> None:
    schema = {
        "title": "Parameters",
        "type": "object",
        "properties": {
            "b": {"title": "b", "position": 1, "type": "string", "default": "x"},
            "a": {"title": "a", "position": 0, "type": "integer"},
        },
        "required": ["a"],
    }
    by_hand = Flow("f", "f", schema)
    assert check_parameters(by_hand, {"c": 1, "b": 2}, enforce_schema=False) == [
        problem("c", "unknown parameter 'c' for flow 'f'; flow 'f' takes: a, b"),
        problem("a", "missing required parameter 'a' of flow 'f'"),
        problem("b", wrong("f", "b", "string", "2 (an integer)")),
    ]


# Whatever the parameters, flowfleet must accept exactly what Prefect accepts: the server's
# check (with enforcement) and then the flow's own check when the run starts.
PREFECT_PARAMETER_SETS: dict[str, list[dict[str, Any]]] = {
    "hello": [
        {},
        {"number": 1, "name": "x"},
        {"number": "1", "name": "x"},
        {"number": 1.0, "name": "x"},
        {"number": 1.5, "name": "x"},
        {"number": True, "name": "x"},
        {"number": 1, "name": 1},
        {"number": 1, "name": "x", "other": 1},
        {"number": 1},
    ],
    "types": [
        {"items": ["1"]},
        {"items": [1.5]},
        {"items": (1, 2)},
        {"pairs": {"a": "1"}},
        {"maybe": None},
        {"maybe": "1"},
        {"either": 1.5},
        {"either": None},
        {"mode": "c"},
        {"when": "2024-01-01"},
        {"when": "2024-01-01T00:00:00"},
        {"when": 5},
        {"point": [1, "a"]},
        {"point": ["1", "a"]},
        {"point": [1]},
        {"flag": "true"},
        {"flag": 1},
        {"later": None},
        {"later": "7"},
        {"nested": [None, "1"]},
        {"nested": [None, "x"]},
        {"unique": [1, 1]},
        {"unique": [1, 2]},
        {"color": "green"},
        {"color": "blue"},
    ],
    "po": [{"a": 1}, {"a": "1", "b": 2}, {"a": "x"}, {"b": 1}],
    "bad_default": [{}, {"x": 1}, {"x": 1, "y": []}, {"x": 1, "y": [], "z": "z"}],
    "va2": [{"a": 1}, {"a": 1, "args": [2]}, {"a": 1, "b": 2, "args": [2]}, {"a": 1, "b": 2}],
    "kw": [
        {"a": 1},
        {"a": 1, "kwargs": {}},
        {"a": 1, "b": 2},
        {"a": 1, "kwargs": {"b": 2}},
        {"kwargs": {"a": 1}},
        {"kwargs": {"a": "x"}},
        {"a": 1, "kwargs": {"a": 2}},
    ],
    "va": [{"a": 1}, {"a": 1, "args": []}, {"a": 1, "args": [1, "x"]}],
    "fielded": [{}, {"a": 2}, {"a": "x"}, {"a": 2, "b": "y"}],
    "unchecked": [{"a": "x"}, {"a": 1}, {}],
    "names": [{"schema": "s"}, {"schema": 1}, {"json": "1"}],
}


@pytest.fixture(scope="module")
def prefect_acceptance(checked_project: Path) -> Callable[[str, dict[str, Any], bool], bool]:
    from prefect.flow_engine import _flow_parameters
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools.validation import validate

    module = import_file(checked_project / "flows/checked.py")

    def accepts(function: str, parameters: dict[str, Any], enforce: bool) -> bool:
        parameters = json.loads(json.dumps(parameters))  # what the client sends
        prefect_flow = getattr(module, function)
        schema = parameter_schema(prefect_flow).model_dump(exclude_unset=True)
        try:
            if enforce:  # the server, when the flow run is created
                validate(parameters, schema, raise_on_error=True)
            # the flow engine, when the run starts: bind (defaults applied), then validate
            run = SimpleNamespace(parameters=parameters)
            bound = _flow_parameters(prefect_flow, run, None)  # type: ignore[arg-type]
            if prefect_flow.should_validate_parameters:
                prefect_flow.validate_parameters(bound)
        except Exception:
            return False
        return True

    return accepts


@pytest.mark.filterwarnings("ignore:Field name .* shadows an attribute:UserWarning")
@pytest.mark.parametrize(
    ("function", "parameters", "enforce"),
    [
        (function, parameters, enforce)
        for (function, sets), enforce in itertools.product(
            PREFECT_PARAMETER_SETS.items(), (False, True)
        )
        for parameters in sets
    ],
)
def test_accepts_exactly_what_prefect_accepts(
    checked_project: Path,
    prefect_acceptance: Callable[[str, dict[str, Any], bool], bool],
    function: str,
    parameters: dict[str, Any],
    enforce: bool,
) -> None:
    found = inspect_flow(checked_project, f"flows/checked.py:{function}")
    problems = check_parameters(found, parameters, enforce_schema=enforce)
    assert (not problems) == prefect_acceptance(function, parameters, enforce), problems


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 1.5, -2.5])
    | st.sampled_from(["", "1", "x", "a", "red", "true", "2024-01-01", "2024-01-01T00:00:00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner),
    max_leaves=6,
)
PARAMETER_NAMES = "count ratio items pairs maybe either mode when point flag later nested unique"
ANY_PARAMETERS = st.dictionaries(
    st.sampled_from(
        [*PARAMETER_NAMES.split(), "color", "number", "name", "a", "b", "x", "y", "kwargs", "args"]
    ),
    JSON_VALUES,
    max_size=3,
)


@pytest.mark.filterwarnings("ignore:Field name .* shadows an attribute:UserWarning")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    function=st.sampled_from(
        ["types", "hello", "kw", "va", "va2", "po", "unchecked", "bad_default", "fielded"]
    ),
    parameters=ANY_PARAMETERS,
    enforce=st.booleans(),
)
def test_accepts_exactly_what_prefect_accepts_for_any_json(
    checked_project: Path,
    prefect_acceptance: Callable[[str, dict[str, Any], bool], bool],
    function: str,
    parameters: dict[str, Any],
    enforce: bool,
) -> None:
    found = inspect_flow(checked_project, f"flows/checked.py:{function}")
    problems = check_parameters(found, parameters, enforce_schema=enforce)
    assert (not problems) == prefect_acceptance(function, parameters, enforce), problems
