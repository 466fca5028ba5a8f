"""`import dev.yaml prod.yaml --from-server [ENV=]URL [--api-key-env [ENV=]NAME]`: the server
each environment's ECSTask block is read from, and the variable holding its API key.

`URL` alone is every environment's server; `ENV=URL` is one environment's (and wins over
a `URL` alone). The same for `--api-key-env`. Each environment whose file names an
`ecs-task` block needs a server; the key is optional (a server without authentication).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from flowfleet.config.models import Environment
from flowfleet.errors import FlowfleetError
from flowfleet.model.target import Target
from flowfleet.server.connection import resolve_target

_ENVIRONMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXAMPLE = "--from-server dev=http://prefect-dev:4200/api"
_KEY_PREFIXES = ("pnu_", "pnb_")  # Prefect Cloud keys: a key given as the name is not echoed


def server_targets(
    servers: Sequence[str],
    keys: Sequence[str],
    environments: Sequence[str],
    needed: Sequence[str],
    root: Path,
) -> dict[str, Target]:
    """The server of each environment in `needed` (those whose blocks are read), from the
    options' values; `environments` are all the files' environments."""
    if keys and not servers:
        raise FlowfleetError("--api-key-env goes with --from-server; give the servers too")
    urls = _per_environment("--from-server", servers, environments, _check_url)
    names = _per_environment("--api-key-env", keys, environments, _check_variable)
    missing = [env for env in needed if env not in urls and None not in urls]
    if missing:
        raise FlowfleetError(
            f"--from-server: no server for environment(s) {', '.join(missing)}, whose file "
            "names an ecs-task block; give each one's with --from-server ENV=URL, or one "
            "--from-server URL for all"
        )
    targets = {}
    for env in needed:
        connection = Environment(
            api_url=urls.get(env, urls.get(None)), api_key_env=names.get(env, names.get(None))
        )
        targets[env] = resolve_target(root, env, connection, start_local=False)
    return targets


def _per_environment(
    option: str,
    values: Sequence[str],
    environments: Sequence[str],
    check: Callable[[str, str, str], None],
) -> dict[str | None, str]:
    """ENV → value (None: every environment not named)."""
    found: dict[str | None, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        env = name if sep and _ENVIRONMENT.fullmatch(name) else None
        given = rest if env is not None else value
        if env is not None and env not in environments:
            raise FlowfleetError(
                f"{option} {env}=...: no file is environment '{env}' (the environments are "
                f"{', '.join(environments)}); name one of them"
            )
        if env in found:
            twice = f"environment '{env}' is given twice" if env else "two values for all"
            raise FlowfleetError(
                f"{option}: {twice}; give one value for all environments, or ENV=VALUE for "
                f"each, e.g. {EXAMPLE} --from-server prod=https://prefect-prod/api"
            )
        check(option, value, given)
        found[env] = given
    return found


def _check_url(option: str, value: str, url: str) -> None:
    if not re.match(r"https?://[^/\s]+", url):
        raise FlowfleetError(
            f"{option} {value}: expected URL or ENV=URL with an http(s) URL of a Prefect "
            f"API, e.g. {EXAMPLE}"
        )


def _check_variable(option: str, value: str, name: str) -> None:  # value may be a key: not shown
    if not _VARIABLE.fullmatch(name) or name.startswith(_KEY_PREFIXES):
        raise FlowfleetError(
            f"{option}: expected NAME or ENV=NAME, the name of the variable that holds the "
            "API key (e.g. PROD_PREFECT_API_KEY), never the key"
        )
