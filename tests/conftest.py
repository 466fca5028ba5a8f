"""Shared fixtures. Tests never touch the user's home or real Prefect profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
