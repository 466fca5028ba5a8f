"""Shared fixtures. Tests never touch the user's home or real Prefect profile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from flowfleet.config import composer

# Property tests draw the same examples on every run and every machine ("ci", the default:
# `make test` and CI), so a green run stays green; `HYPOTHESIS_PROFILE=explore` draws new
# ones (and keeps what fails in .hypothesis/ to replay). A case a random run finds becomes
# an @example of its test.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _isolated_prefect_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A throwaway PREFECT_HOME and flowfleet cache, and no inherited Prefect API
    settings."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    monkeypatch.setenv("FLOWFLEET_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    yield


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Create `files` (relative path → text) under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# The two ways flowfleet composes YAML (flowfleet.config.composer): libyaml where it gives
# what PyYAML's pure-Python loader gives, and that loader alone (PyYAML without libyaml).
YAML_LOADERS = [
    pytest.param(
        "libyaml",
        marks=pytest.mark.skipif(composer.LIBYAML is None, reason="PyYAML without libyaml"),
    ),
    "python",
]


@contextlib.contextmanager
def yaml_loader(name: str) -> Iterator[None]:
    """Compose YAML as with `name` installed: "libyaml" (where flowfleet uses it) or
    "python" (PyYAML's pure-Python loader only). A context manager, not a fixture, so
    that property tests can use it."""
    saved = composer.LIBYAML
    composer.LIBYAML = saved if name == "libyaml" else None
    try:
        yield
    finally:
        composer.LIBYAML = saved
