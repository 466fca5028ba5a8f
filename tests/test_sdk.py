"""The Python API offline: build, validate, render; and the package's lazy names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flowfleet
import flowfleet.sdk as ff
from flowfleet._exports import SDK_NAMES
from flowfleet.config.models import Config
from tests.conftest import write_tree

FLOW = "from prefect import flow\n\n\n@flow(name='hello')\ndef hello(n: int = 1):\n    return n\n"


def _data(**deployment: object) -> dict[str, object]:
    entry = {"name": "d", "entrypoint": "flows/hello.py:hello", **deployment}
    return {"environments": {"dev": {"local": True}}, "deployments": [entry]}


def test_build_validate_render(tmp_path: Path) -> None:
    write_tree(tmp_path, {"flows/hello.py": FLOW})
    loaded = ff.build(_data(parameters={"n": 2}), root=tmp_path, project="p")
    assert ff.validate(loaded) == []
    [deployment] = ff.render(loaded, "dev")
    assert (deployment.full_name, deployment.parameters) == ("hello/d", {"n": 2})
    assert loaded.config.project == "p"


def test_build_from_a_config_model(tmp_path: Path) -> None:
    write_tree(tmp_path, {"flows/hello.py": FLOW})
    model = Config.model_validate(_data(tags=["a"]))
    [deployment] = ff.render(ff.build(model, root=tmp_path), "dev")
    assert deployment.tags == ("a",)


def test_validate_returns_or_raises_problems(tmp_path: Path) -> None:
    write_tree(tmp_path, {"flows/hello.py": FLOW})
    loaded = ff.build(_data(parameters={"n": "many", "m": 1}), root=tmp_path)
    problems = ff.validate(loaded)
    assert [str(p) for p in problems] == [
        "<python>:12:10: parameter 'n' of flow 'hello': expected integer, found 'many' "
        "(a string) [dev]",
        "<python>:13:10: unknown parameter 'm' for flow 'hello'; flow 'hello' takes: n [dev]",
    ]
    assert all(p.location is not None and p.location.file == "<python>" for p in problems)
    with pytest.raises(ff.ValidationFailed) as raised:
        ff.validate(loaded, raise_on_error=True)
    assert raised.value.problems == problems
    with pytest.raises(ff.ValidationFailed):
        ff.render(loaded, "dev")


def test_schema_errors_raise_at_build() -> None:
    with pytest.raises(ff.ValidationFailed) as raised:
        ff.build({"environments": {"dev": {}}, "deployments": [{"name": "x"}]})
    assert "entrypoint" in str(raised.value)


def test_package_names_are_lazy() -> None:
    assert flowfleet.load is ff.load and flowfleet.PlanError is ff.PlanError
    assert [name for name in SDK_NAMES if not hasattr(ff, name)] == []
    code = "import sys, flowfleet; print('pydantic' in sys.modules, 'prefect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"]
    with pytest.raises(AttributeError):
        _ = flowfleet.no_such_name  # type: ignore[attr-defined]
