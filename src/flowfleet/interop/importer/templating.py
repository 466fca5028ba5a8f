"""Prefect's `{{ ... }}` placeholders in a prefect.yaml, translated where flowfleet has an
equivalent.

`prefect deploy` resolves placeholders when it deploys: `{{ $VAR }}` from the environment
(flowfleet's `${VAR}`), `{{ prefect.variables.x }}` and `{{ prefect.blocks.x }}` from the
server, `{{ step-id.field }}` from the outputs of build and push steps. Pull steps keep
theirs for the worker to resolve when a run starts (as with flowfleet), and so do
`{{ ctx.* }}` runtime placeholders everywhere. The run parameters of a trigger keep theirs
(`{{ event.* }}`, `{{ flow_run.* }}`, ...) for the automation to render when it fires:
prefect deploy resolves only `{{ $VAR }}` and `{{ prefect.* }}` in them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Prefect's own pattern (prefect.utilities.templating.PLACEHOLDER_CAPTURE_REGEX).
PLACEHOLDER = re.compile(r"\{\{\s*([\w.\-\[\]$]+)\s*\}\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEPLOY_TIME = ("prefect.variables.", "prefect.blocks.")


@dataclass(frozen=True)
class Translation:
    """A string with its placeholders translated, and what to tell the user about it."""

    text: str
    notes: tuple[str, ...] = ()


def translate(
    text: str,
    step_ids: frozenset[str],
    *,
    in_pull_step: bool,
    in_job_variables: bool = False,
    in_run_parameters: bool = False,
) -> Translation:
    """Translate the placeholders of one string; a literal `${` is escaped as `$${` so that
    flowfleet does not read it as a variable (Prefect never did). In job variables,
    `{{ prefect.blocks.* }}` and `{{ prefect.variables.* }}` are kept without a word: the
    worker resolves them when a run starts (a secret then never appears in the config)."""
    notes: list[str] = []

    def replace(match: re.Match[str]) -> str:
        whole, name = match.group(0), match.group(1)
        if in_run_parameters and not name.startswith(("$", *_DEPLOY_TIME)):
            return whole  # the automation renders it when it fires
        runtime = in_pull_step or (in_job_variables and name.startswith(_DEPLOY_TIME))
        translated, note = _placeholder(whole, name, step_ids, runtime)
        if note:
            notes.append(note)
        return translated

    escaped = text.replace("${", "$${")
    return Translation(PLACEHOLDER.sub(replace, escaped), tuple(notes))


_IMAGE = (
    "'{whole}' (the image a build step made) is now ${{IMAGE}}: "
    "CI builds the image and sets IMAGE to its tag"
)
_KEPT = "'{whole}' kept as written: "
_BAD_NAME = _KEPT + "'{name}' is not a variable name that ${{...}} takes"
_STEP_OUTPUT = (
    _KEPT + "it is the output of a build or push step, which flowfleet does not run; "
    "write the value"
)
_DEPLOY_TIME_VALUE = (
    _KEPT + "prefect deploy resolves it when deploying, flowfleet does not; "
    "write the value or a ${{VAR}}"
)
_UNKNOWN = _KEPT + "flowfleet does not resolve Prefect placeholders; write the value or a ${{VAR}}"


def _placeholder(
    whole: str, name: str, step_ids: frozenset[str], in_pull_step: bool
) -> tuple[str, str | None]:
    """The translation of one placeholder and the note about it (None: nothing to say)."""
    if name.startswith("$"):
        if _ENV_NAME.fullmatch(name[1:]):
            return f"${{{name[1:]}}}", None
        return whole, _BAD_NAME.format(whole=whole, name=name[1:])
    step, _, field = name.partition(".")
    if step in step_ids and field == "image":
        return "${IMAGE}", _IMAGE.format(whole=whole)
    if step in step_ids:
        note = _STEP_OUTPUT
    elif name.startswith("ctx.") or in_pull_step:
        return whole, None  # resolved when a run starts, with flowfleet as with prefect deploy
    else:
        note = _DEPLOY_TIME_VALUE if name.startswith(_DEPLOY_TIME) else _UNKNOWN
    return whole, note.format(whole=whole)
