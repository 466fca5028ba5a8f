"""Which of Prefect's parameter rules apply: those of the Prefect installed with flowfleet.

`prefect deploy` builds a deployment's parameter schema with the Prefect installed where it
runs, so flowfleet builds it, and checks parameters, by that Prefect's rules. The version is
read from the package metadata: `import prefect` would cost about two seconds.

Each rule is gated on the first Prefect release that has it (nightly builds included):
- `variadic_defaults` (3.8.9.dev6, first released in 3.9.0): `*args` is a `list[T]`
  defaulting to `[]` and `**kwargs` a `dict[str, T]` defaulting to `{}`, so neither is
  required; their annotations are read from source too (before: ignored, and both were
  required); and a run's `*args` list is passed positionally, the omitted positional
  parameters before it taking their defaults (before: only when those were all given).
  Source: `prefect/_internal/pydantic/v2_schema.py` (`process_v2_params`) and
  `prefect/utilities/callables/__init__.py` (`process_v1_params`,
  `_generate_signature_from_source`, `parameters_to_args_kwargs`).
- `field_defaults` (3.4.26.dev5, first released in 3.5.0): a `pydantic.Field(...)` used as a
  parameter's default gives the schema its default, description and extra keys, and a run
  its default (before: the schema had no default, and a run that used it failed).
  Source: `prefect/_internal/pydantic/v2_schema.py` (`process_v2_params`),
  `prefect/utilities/callables/__init__.py` (`get_call_parameters`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata

from packaging.version import InvalidVersion, Version

VARIADIC_DEFAULTS_SINCE = Version("3.8.9.dev6")
FIELD_DEFAULTS_SINCE = Version("3.4.26.dev5")


@dataclass(frozen=True)
class PrefectRules:
    """The parameter rules of one Prefect version (see the module docstring)."""

    version: str | None  # None: no Prefect installed (the newest rules apply)
    variadic_defaults: bool
    field_defaults: bool


def rules_for(version: str | None) -> PrefectRules:
    """The rules of Prefect `version`; the newest ones for None or an unreadable version."""
    try:
        parsed = Version(version) if version is not None else None
    except InvalidVersion:
        parsed = None
    if parsed is None:
        return PrefectRules(version, variadic_defaults=True, field_defaults=True)
    return PrefectRules(
        version,
        variadic_defaults=parsed >= VARIADIC_DEFAULTS_SINCE,
        field_defaults=parsed >= FIELD_DEFAULTS_SINCE,
    )


@functools.cache
def installed_rules() -> PrefectRules:
    """The rules of the installed Prefect (the `prefect` or `prefect-client` distribution)."""
    for distribution in ("prefect", "prefect-client"):
        try:
            return rules_for(metadata.version(distribution))
        except metadata.PackageNotFoundError:
            continue
    return rules_for(None)
