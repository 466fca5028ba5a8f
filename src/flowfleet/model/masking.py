"""Secret values never reach output. Pure.

A deployment names its secret environment variables in `secret_env`; their values are
shown as `***` wherever flowfleet prints or saves deployments (plan in every format,
render, render --jobs, diff, saved plan files). A secret that changed is still shown as
changed: `*** (changed)`. Only output is masked: the server receives the real values.
`MASK` is the one mask: secret block fields (plan, saved plans, `render --jobs`) use it too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

MASK = "***"
MASK_CHANGED = "*** (changed)"
# Values this short are masked where they are a whole string, never inside other text.
SHORTEST_SUBSTRING = 4


def mask_env(job_variables: Any, secret: Collection[str]) -> Any:
    """`job_variables` with the values of the secret env entries masked."""
    env = job_variables.get("env") if isinstance(job_variables, dict) else None
    if not secret or not isinstance(env, dict):
        return job_variables
    masked = {k: MASK if k in secret else v for k, v in env.items()}
    return {**job_variables, "env": masked}


def mask_env_change(old: Any, new: Any, secret: Collection[str]) -> tuple[Any, Any]:
    """Old and new job variables, masked; a changed secret's new value says so."""
    old_env = _env(old)
    masked_old, masked_new = mask_env(old, secret), mask_env(new, secret)
    for name, value in _env(new).items():
        if name in secret and name in old_env and old_env[name] != value:
            masked_new["env"][name] = MASK_CHANGED
    return masked_old, masked_new


def secret_values(job_variables: Any, secret: Collection[str]) -> set[str]:
    """The secret values themselves (to scrub them from text built elsewhere)."""
    return {str(v) for k, v in _env(job_variables).items() if k in secret and v not in (None, "")}


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every secret string replaced by the mask, inside JSON-like data:
    whole strings always, substrings when the secret is long enough to be unambiguous."""
    secrets = sorted(set(secrets), key=len, reverse=True)
    if not secrets:
        return value
    return _scrub(value, secrets)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        if value in secrets:
            return MASK
        for secret in secrets:
            if len(secret) >= SHORTEST_SUBSTRING:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    return value


def _env(job_variables: Any) -> dict[str, Any]:
    env = job_variables.get("env") if isinstance(job_variables, dict) else None
    return env if isinstance(env, dict) else {}
