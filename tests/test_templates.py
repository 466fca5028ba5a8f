"""Default base job templates: read from the installed worker once, then from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowfleet.render import templates


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(tmp_path))
    templates._default_template.cache_clear()
    yield tmp_path
    templates._default_template.cache_clear()


def test_default_template_is_cached_per_installed_versions(cache: Path) -> None:
    first = templates.default_template("process")
    assert "job_configuration" in first and "variables" in first
    [written] = (cache / "templates").glob("process-*.json")
    assert json.loads(written.read_text()) == first

    # A later process reads the cached file, not the worker.
    marked = {**first, "variables": {**first["variables"], "description": "from the cache"}}
    written.write_text(json.dumps(marked))
    templates._default_template.cache_clear()
    assert templates.default_template("process")["variables"]["description"] == "from the cache"


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
