"""Prefect's own answer to each case of tests/test_prefect_settings.py.

    python tests/prefect_settings_oracle.py < cases.json > answers.json

One process for all the cases, so that Prefect is imported once (about two seconds): for
each case (`{"dir": ..., "environ": {...}}`) it sets the process environment to the case's
(every PREFECT_* variable of its own removed), changes to the case's folder, points
`~/.prefect` (a symbolic link in this process's HOME) at the case's `home/.prefect` when
it has one, empties Prefect's cache of TOML files, and builds `prefect.settings.Settings()`:
what `get_current_settings()` returns in a fresh process (the global settings context is
built the same way, once, at import). The answer is `{"url", "key"}`, or `{"error"}`.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any


def answer(case: dict[str, Any], base: dict[str, str], home: Path) -> dict[str, Any]:
    from prefect.settings import Settings, sources

    link = home / ".prefect"
    if link.is_symlink():
        link.unlink()
    own = Path(case["dir"]) / "home" / ".prefect"
    if own.exists():
        link.symlink_to(own)
    os.environ.clear()
    os.environ.update({**base, **case["environ"]})
    os.chdir(case["dir"])
    cache = getattr(sources, "_file_cache", None)  # keyed by path and mtime
    if cache is not None:
        cache.clear()
    try:
        api = Settings().api
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    key = api.key.get_secret_value() if api.key is not None else None
    return {"url": api.url, "key": key}


def main() -> None:
    cases = json.load(sys.stdin)
    home = Path.home()
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFECT_")}
    warnings.simplefilter("ignore")  # an invalid profiles file: Prefect warns and goes on
    answers = [answer(case, base, home) for case in cases]
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
