"""diff ENV_A ENV_B: how two environments' declared deployments differ (offline)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from flowfleet.commands.common import load_desired
from flowfleet.model.masking import mask_env_change
from flowfleet.output.console import out, print_json
from flowfleet.plan.change import FieldChange
from flowfleet.plan.diff import EnvironmentDiff, diff_environments
from flowfleet.render.deployments import Rendered
from flowfleet.render.validate import RENDER


def run_diff(file: Path, env_a: str, env_b: str, project: str | None, *, as_json: bool) -> int:
    """Print the differences; exit 0 (differences are not an error)."""
    a, b = load_desired([file], [env_a, env_b], project, RENDER)
    result = _masked(
        diff_environments(
            [r.deployment for r in a.deployments], [r.deployment for r in b.deployments]
        ),
        [*a.deployments, *b.deployments],
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


def _masked(result: EnvironmentDiff, rendered: Sequence[Rendered]) -> EnvironmentDiff:
    """Secret `job_variables.env` values (secret in either environment) masked."""
    secret: dict[str, set[str]] = {}
    for r in rendered:
        secret.setdefault(r.deployment.full_name, set()).update(r.deployment.secret_env)

    def mask(name: str, f: FieldChange) -> FieldChange:
        if f.field != "job_variables" or not secret.get(name):
            return f
        return FieldChange(f.field, *mask_env_change(f.old, f.new, secret[name]))

    changed = tuple((name, tuple(mask(name, f) for f in fields)) for name, fields in result.changed)
    return replace(result, changed=changed)


def _field(f: Any, env_a: str, env_b: str) -> dict[str, Any]:
    return {"field": f.field, env_a: f.old, env_b: f.new}


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
