"""The Python API: the same pipeline as the command line, for configs built in code.

    import flowfleet.sdk as ff

    config = ff.build({"environments": {"dev": {"local": True}}, "deployments": [...]},
                      root="path/to/project")
    problems = ff.validate(config)              # [] when valid
    [planned] = ff.plan(config, "dev")          # EnvironmentPlan: .plan.changes, .has_changes
    [result] = ff.apply(config, "dev")          # ApplyResult: .counts(), .failed

Every function raises a FlowfleetError subclass for the user's mistakes (ConfigError,
ValidationFailed with every problem, PlanError) and nothing else for them; `aplan` and
`aapply` are the same for code that already runs an event loop. See docs/python-api.md.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from flowfleet._aio import run
from flowfleet._exports import SDK_NAMES
from flowfleet.apply.deployments import ApplyResult
from flowfleet.apply.pipeline import apply_environment, apply_under_lock, plan_all
from flowfleet.config.load import LoadedConfig, load_config, load_text
from flowfleet.config.models import Config
from flowfleet.errors import (
    ConfigError,
    FlowfleetError,
    Problem,
    ValidationFailed,
    merge_problems,
)
from flowfleet.errors import Location as Location  # re-exported (SDK_NAMES)
from flowfleet.errors import PlanError as PlanError
from flowfleet.model.resources import Deployment
from flowfleet.plan.environment import EnvironmentPlan, check_applicable
from flowfleet.render.validate import OFFLINE, RENDER, validate_loaded
from flowfleet.server.lock import DEFAULT_TIMEOUT

__all__ = [*SDK_NAMES, "apply", "plan", "render", "validate"]

Environments = str | Sequence[str]


def load(path: str | os.PathLike[str], *, project: str | None = None) -> LoadedConfig:
    """Read a config file (either format); raises ConfigError or ValidationFailed."""
    return load_config(Path(path), project=project)


def build(
    config: Config | Mapping[str, Any],
    *,
    root: str | os.PathLike[str] = ".",
    project: str | None = None,
) -> LoadedConfig:
    """A config built in code, as a `Config` or the same data as `flowfleet.yaml`.

    Entrypoints and template files are relative to `root`. `${VAR}` in strings is read
    from the process environment, as in the file (`$${` is a literal `${`). Errors name
    `<python>:line:column` of the data written out as YAML."""
    if isinstance(config, Config):
        data: Any = config.model_dump(mode="json", exclude_none=True)
    else:
        data = dict(config)
    text = json.dumps(data, indent=1, default=str)  # JSON is YAML, with lines to point at
    return load_text(text, Path(root), display="<python>", project=project)


def validate(
    config: LoadedConfig, environments: Environments = (), *, raise_on_error: bool = False
) -> list[Problem]:
    """Every problem of the selected environments (default: all), offline; with
    `raise_on_error`, raise ValidationFailed instead of returning a non-empty list."""
    try:
        validate_loaded(config, _names(environments), needs=OFFLINE)
    except ValidationFailed as exc:
        if raise_on_error:
            raise
        return exc.problems
    except ConfigError as exc:
        if raise_on_error:
            raise
        return merge_problems([Problem(exc.location, exc.message)])
    return []


def render(config: LoadedConfig, environment: str) -> list[Deployment]:
    """The fully resolved deployments of one environment (validated first: raises
    ValidationFailed), without the ownership marker that plan and apply add."""
    [desired] = validate_loaded(config, [environment], needs=RENDER)
    return [r.deployment for r in desired.deployments]


async def aplan(
    config: LoadedConfig,
    environments: Environments = (),
    *,
    prune: bool = False,
    adopt: bool = False,
    preview: str | None = None,
) -> list[EnvironmentPlan]:
    """Validate, then read each selected environment's server and plan it (no writes)."""
    desired = validate_loaded(config, _names(environments))
    return await plan_all(desired, prune=prune, adopt=adopt, preview=preview)


def plan(
    config: LoadedConfig,
    environments: Environments = (),
    *,
    prune: bool = False,
    adopt: bool = False,
    preview: str | None = None,
) -> list[EnvironmentPlan]:
    """`aplan` for code without an event loop."""
    return _run(aplan(config, environments, prune=prune, adopt=adopt, preview=preview))


async def aapply(
    config: LoadedConfig,
    environments: Environments = (),
    *,
    prune: bool = False,
    adopt: bool = False,
    preview: str | None = None,
    max_deletes: int | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> list[ApplyResult]:
    """`apply` for code that runs an event loop (it runs in a worker thread)."""
    return await asyncio.to_thread(
        _apply,
        config,
        environments,
        prune=prune,
        adopt=adopt,
        preview=preview,
        max_deletes=max_deletes,
        lock_timeout=lock_timeout,
    )


def apply(
    config: LoadedConfig,
    environments: Environments = (),
    *,
    prune: bool = False,
    adopt: bool = False,
    preview: str | None = None,
    max_deletes: int | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> list[ApplyResult]:
    """Plan every selected environment, refuse (PlanError) if any plan has errors or
    deletes more than `max_deletes`, then apply each, holding each environment's lock
    as `flowfleet apply` does (waiting up to `lock_timeout` seconds: Locked). A failed
    change does not raise: it is in the result's `failed`."""
    _no_running_loop()
    return _apply(
        config,
        environments,
        prune=prune,
        adopt=adopt,
        preview=preview,
        max_deletes=max_deletes,
        lock_timeout=lock_timeout,
    )


def _apply(
    config: LoadedConfig,
    environments: Environments,
    *,
    prune: bool,
    adopt: bool,
    preview: str | None,
    max_deletes: int | None,
    lock_timeout: float,
) -> list[ApplyResult]:
    desired = validate_loaded(config, _names(environments))

    def act(plans: list[EnvironmentPlan], before_writes: Callable[[], None]) -> list[ApplyResult]:
        check_applicable(plans, max_deletes)
        if any(p.has_changes for p in plans):
            before_writes()
        return [
            run(apply_environment(p, None)) if p.has_changes else ApplyResult(p.plan.environment)
            for p in plans
        ]

    return apply_under_lock(
        desired,
        lambda: run(plan_all(desired, prune=prune, adopt=adopt, preview=preview)),
        act,
        lock_timeout=lock_timeout,
    )


def _names(environments: Environments) -> list[str]:
    return [environments] if isinstance(environments, str) else list(environments)


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        _no_running_loop()
    except FlowfleetError:
        coroutine.close()
        raise
    return run(coroutine)


def _no_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise FlowfleetError("called inside a running event loop: use aplan/aapply (await them)")
