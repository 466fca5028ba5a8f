"""The names of the Prefect variables flowfleet keeps per project and environment: the
ownership list (`ledger`), the lock and its generation (`lock`)."""

from __future__ import annotations

import re


def variable_name(prefix: str, project: str, environment: str) -> str:
    """`<prefix>__<project>__<environment>` in lower case; a variable name allows only
    letters, digits, `-` and `_`, so any other character of the names becomes `_`."""
    safe = [re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in (project, environment)]
    return f"{prefix}__{safe[0]}__{safe[1]}".lower()
