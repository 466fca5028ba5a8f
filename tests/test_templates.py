"""Default base job templates: read from the installed worker once, then from the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowfleet.render import templates


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(tmp_path))
    templates._default_template.cache_clear()
    yield tmp_path
    templates._default_template.cache_clear()


def test_default_template_is_cached_per_installed_versions(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    real_version = importlib.metadata.version
    installed = {"prefect": "3.9.1"}
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: installed.get(name) or real_version(name)
    )
    reads: list[str] = []
    real_read = templates._read_default_template

    def read_from_worker(pool_type: str) -> str:
        reads.append(pool_type)
        return real_read(pool_type)

    monkeypatch.setattr(templates, "_read_default_template", read_from_worker)

    def in_a_later_process() -> dict[str, Any]:
        templates._default_template.cache_clear()
        return templates.default_template("process")

    first = in_a_later_process()
    assert "job_configuration" in first and "variables" in first
    assert reads == ["process"]
    [written] = (cache / "templates").glob("process-*.json")
    assert json.loads(written.read_text()) == first

    # The same versions: the cached file is read, not the worker.
    marked = {**first, "variables": {**first["variables"], "description": "from the cache"}}
    written.write_text(json.dumps(marked))
    assert in_a_later_process() == marked
    assert reads == ["process"]

    # Prefect upgraded: another cache entry, read from the worker again.
    installed["prefect"] = "3.9.2"
    assert in_a_later_process() == first
    assert reads == ["process", "process"]
    assert len(list((cache / "templates").glob("process-*.json"))) == 2

    # Back to the first version: its entry is still there and used.
    installed["prefect"] = "3.9.1"
    assert in_a_later_process() == marked
    assert reads == ["process", "process"]


def test_cache_key_changes_with_the_type(cache: Path) -> None:
    assert templates._cache_path("process") != templates._cache_path("ecs")
    assert templates._cache_path("process").parent == cache / "templates"


def test_unwritable_cache_still_reads_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(blocker))
    templates._default_template.cache_clear()
    try:
        assert "job_configuration" in templates.default_template("process")
    finally:
        templates._default_template.cache_clear()
