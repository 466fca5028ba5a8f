"""diff ENV_A ENV_B: how two environments' declared deployments differ (offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowfleet.commands.common import load_desired
from flowfleet.diff import diff_environments
from flowfleet.output import out, print_json


def run_diff(file: Path, env_a: str, env_b: str, project: str | None, *, as_json: bool) -> int:
    """Print the differences; exit 0 (differences are not an error)."""
    a, b = load_desired([file], [env_a, env_b], project)
    result = diff_environments(
        [r.deployment for r in a.deployments], [r.deployment for r in b.deployments]
    )
    if as_json:
        print_json(
            {
                "only_in": {env_a: list(result.only_a), env_b: list(result.only_b)},
                "changed": [
                    {"deployment": name, "fields": [_field(f, env_a, env_b) for f in fields]}
                    for name, fields in result.changed
                ],
            }
        )
        return 0
    if result.empty:
        out(f"{env_a} and {env_b} declare the same deployments.")
    for name in result.only_a:
        out(f"< {name}  (only in {env_a})")
    for name in result.only_b:
        out(f"> {name}  (only in {env_b})")
    for name, fields in result.changed:
        out(f"~ {name}")
        for f in fields:
            out(f"    {f.field}: {env_a}={_show(f.old)}  {env_b}={_show(f.new)}")
    return 0


def _field(f: Any, env_a: str, env_b: str) -> dict[str, Any]:
    return {"field": f.field, env_a: f.old, env_b: f.new}


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
