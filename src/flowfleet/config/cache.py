"""Where flowfleet keeps what it learns from the installed packages (default base job
templates, block types' schemas): FLOWFLEET_CACHE_DIR, else the user's cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """FLOWFLEET_CACHE_DIR, else $XDG_CACHE_HOME/flowfleet, else ~/.cache/flowfleet."""
    if explicit := os.environ.get("FLOWFLEET_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "flowfleet"
