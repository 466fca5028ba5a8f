"""run FLOW/DEPLOYMENT: trigger one deployment and, with --wait, wait for its end."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowfleet.config.load import load_config
from flowfleet.config.variables import connection_problems
from flowfleet.errors import Problem, ValidationFailed
from flowfleet.output.console import err, out, print_json
from flowfleet.server.connection import resolve_target
from flowfleet.server.runs import RunError, trigger


def parse_params(params: Sequence[str]) -> dict[str, Any]:
    """`k=v` pairs; v is JSON when it parses (`n=3` is a number), else text."""
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RunError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def run_deployment(
    file: Path,
    environment: str | None,
    name: str,
    params: Sequence[str],
    *,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> int:
    """Exit 0 if the run was created (without --wait) or COMPLETED (with it)."""
    flow, sep, deployment = name.partition("/")
    if not sep or not flow or not deployment:
        raise RunError(f"expected FLOW/DEPLOYMENT, got {name!r} (e.g. hello/daily)")
    loaded = load_config(file, environment=environment)
    env = environment or _only(list(loaded.config.environments))
    if env not in loaded.config.environments:
        raise RunError(f"unknown environment '{env}' in {loaded.file}")
    lacking = [
        Problem(p.location, p.message, (env,)) for p in connection_problems(loaded, env, os.environ)
    ]
    if lacking:
        raise ValidationFailed(lacking)
    target = resolve_target(loaded.root, env, loaded.config.environments[env], start_local=True)
    state = asyncio.run(trigger(target, flow, deployment, parse_params(params), wait, timeout))
    if as_json:
        print_json(state)
    else:
        out(f"{name} in {env}: flow run {state['name']} ({state['id']}): {state['state']}")
        for line in state.get("logs", []):
            out(f"  | {line}")
    if wait and state["state"] != "COMPLETED":
        err(f"the run ended {state['state']}: {state.get('message') or 'no message'}")
        return 1
    return 0


def _only(names: list[str]) -> str:
    if len(names) != 1:
        raise RunError(f"choose an environment with --env ({', '.join(names)})")
    return names[0]
