"""The `flowfleet.yaml` format as strict, frozen pydantic models.

The JSON Schema generated from these models (`flowfleet schema`) is the reference of the
format. Semantic checks that need no other input (cron syntax, time zones, "exactly one
of") live here so that they are reported at the line of the offending value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flowfleet.config import checks
from flowfleet.config.automations import AutomationSpec, DeploymentTrigger
from flowfleet.config.base import Strict, Text, number_as_written
from flowfleet.config.infrastructure import (
    BlockSpec,
    ConcurrencyLimitSpec,
    VariableSpec,
    WorkPoolSpec,
)


def _not_bool(expected: str) -> BeforeValidator:
    """YAML `true` is not a number, even though Python thinks so."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"expected {expected}, found the boolean {str(value).lower()}")
        return value

    return BeforeValidator(check)


def _pattern(regex: str, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(regex, value):
            raise ValueError(f"'{value}' is not a valid {what}")
        return value

    return AfterValidator(check)


def _iso_datetime(value: Any) -> Any:
    """YAML timestamps may use a space: `2024-01-01 10:00:00 +05:00`."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d[ \t]+\d[^ ]*( *[+-Z].*)?", value):
        date, time = value.split(maxsplit=1)
        return f"{date}T{time.replace(' ', '')}"
    return value


_NAME_CHARS = "use letters, digits, '_', '.' and '-', starting with a letter or digit"
Name = Annotated[
    str,
    BeforeValidator(number_as_written),
    Field(max_length=200),
    AfterValidator(checks.name),
]
_SLUG = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_SLUG_FIELD = Field(max_length=100, json_schema_extra={"pattern": f"^{_SLUG}$"})
# Project and environment names go into tags, variable names and folder names.
ProjectName = Annotated[str, _SLUG_FIELD, _pattern(_SLUG, f"project name; {_NAME_CHARS}")]
EnvironmentName = Annotated[str, _SLUG_FIELD, _pattern(_SLUG, f"environment name; {_NAME_CHARS}")]
VariableName = Annotated[
    str,
    Field(json_schema_extra={"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}),
    AfterValidator(checks.variable_name),
]
Cron = Annotated[str, AfterValidator(checks.cron)]
RRule = Annotated[str, AfterValidator(checks.rrule)]
TimeZone = Annotated[str, AfterValidator(checks.timezone)]
Seconds = Annotated[
    float,
    _not_bool("a valid number"),
    Field(gt=0, allow_inf_nan=False, description="Seconds between runs."),
]
Limit = Annotated[int, _not_bool("a valid integer"), Field(gt=0)]
AnchorDate = Annotated[datetime, BeforeValidator(_iso_datetime)]
JsonObject = dict[str, Any]


class Schedule(Strict):
    """One schedule: exactly one of cron, interval (seconds) or rrule."""

    cron: Cron | None = None
    interval: Seconds | None = None
    rrule: RRule | None = None
    timezone: TimeZone | None = None
    anchor_date: AnchorDate | None = None
    day_or: bool | None = None
    active: bool | None = None
    parameters: JsonObject | None = None
    slug: Name | None = None
    replaces: Name | None = Field(
        default=None,
        description="The slug this schedule had before: renaming a slug keeps the schedule "
        "on the server (same id) instead of replacing it. Needs `slug`.",
    )
    max_scheduled_runs: Limit | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        checks.one_schedule_kind(self.cron, self.interval, self.rrule)
        return self

    @field_validator("day_or")
    @classmethod
    def _cron_only(cls, value: Any, info: ValidationInfo) -> Any:
        return checks.only_for("day_or", value, info.data.get("cron"), "cron")

    @field_validator("anchor_date")
    @classmethod
    def _interval_only(cls, value: Any, info: ValidationInfo) -> Any:
        return checks.only_for("anchor_date", value, info.data.get("interval"), "interval")

    @field_validator("replaces")
    @classmethod
    def _renames(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or "slug" not in info.data:  # an invalid slug has its own error
            return value
        return checks.replaces(value, info.data["slug"])


def _grace_period(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and not 60 <= value <= 86400:
        raise ValueError(
            "expected whole seconds from 60 to 86400 (one minute to one day), as Prefect "
            f"allows, found the number {value}"
        )
    return value


GracePeriod = Annotated[
    int, _not_bool("a valid integer"), BeforeValidator(_grace_period), Field(ge=60, le=86400)
]


class ConcurrencyLimitOptions(Strict):
    """A concurrency limit with what happens to runs over it (as in prefect.yaml)."""

    limit: Limit
    collision_strategy: Literal["ENQUEUE", "CANCEL_NEW"] | None = Field(
        default=None,
        description="What the server does with a run over the limit: ENQUEUE (wait, the "
        "default) or CANCEL_NEW (cancel it).",
    )
    grace_period_seconds: GracePeriod | None = Field(
        default=None,
        description="How long a run may take to start before its slot is released "
        "(default: the server's setting). Needs a Prefect 3.6.6 server or newer.",
    )


def _limit_form(value: Any) -> str:
    return "Options" if isinstance(value, dict | ConcurrencyLimitOptions) else "Limit"


# The integer, or the mapping; a callable discriminator so that an error is reported for
# the form that was written only. (Tags are capitalised: the error-path mapping skips them.)
ConcurrencyLimit = Annotated[
    Annotated[Limit, Tag("Limit")] | Annotated[ConcurrencyLimitOptions, Tag("Options")],
    Discriminator(_limit_form),
]


class WorkPool(Strict):
    """Where a deployment's runs go: a work pool, its queue and job variables."""

    name: Text | None = None
    work_queue_name: Text | None = None
    job_variables: JsonObject | None = None


class Settings(Strict):
    """The fields that layer: defaults, deployment entries and environment overrides."""

    parameters: JsonObject | None = None
    schedules: list[Schedule] | None = None
    schedules_active: bool | None = Field(
        default=None, description="Set every schedule's `active` (e.g. false in dev)."
    )
    tags: list[Text] | None = Field(default=None, description="Unioned across layers.")
    version: Text | None = None
    description: Text | None = None
    work_pool: WorkPool | None = None
    pull_steps: list[JsonObject] | None = None
    paused: bool | None = None
    concurrency_limit: ConcurrencyLimit | None = Field(
        default=None,
        description="A number, or {limit, collision_strategy, grace_period_seconds}; "
        "merged key by key across layers (a number sets the limit only).",
    )
    enforce_parameter_schema: bool | None = Field(
        default=None, description="Validate parameters against the flow signature (default true)."
    )
    protected: bool | None = Field(
        default=None,
        description="Forbid deleting the deployment (prune refuses); recorded on the server "
        "as the tag 'flowfleet:protected'. Set false and apply before removing it.",
    )
    triggers: list[DeploymentTrigger] | None = Field(
        default=None,
        description="Automations that run this deployment when their trigger fires, as in "
        "prefect.yaml; replaces the list of a lower layer (`[]`: none).",
    )
    secret_env: list[Text] | None = Field(
        default=None,
        description="Names of `work_pool.job_variables.env` entries whose values are "
        "secret: masked as *** in plan, render and diff output. Unioned across layers.",
    )


def _scalar(value: Any) -> Any:
    if not isinstance(value, str | int | float | bool):
        raise ValueError("a matrix value must be a string, number or boolean")
    return value


MatrixValue = Annotated[
    Any,
    BeforeValidator(_scalar),
    Field(json_schema_extra={"type": ["string", "number", "boolean"]}),
]


class DeploymentEntry(Settings):
    """One entry of `deployments:`; with a matrix, one deployment per combination."""

    name: Name
    entrypoint: Annotated[str, Field(description="`path/to/file.py:function`, relative.")]
    matrix: dict[str, Annotated[list[MatrixValue], Field(min_length=1)]] | None = None
    environments: dict[str, Settings | None] | None = Field(
        default=None,
        description="Where the deployment exists (default: every environment), "
        "with per-environment changes.",
    )

    @field_validator("matrix")
    @classmethod
    def _matrix_keys(cls, matrix: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in matrix or {}:
            if key == "env":
                raise ValueError("'env' is reserved for the environment name; rename the key")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ValueError(f"matrix key '{key}' must be a name like region or size")
        return matrix


class Environment(Strict):
    """Where an environment's Prefect API is, or `local: true` for an embedded server."""

    api_url: Text | None = None
    api_key_env: VariableName | None = Field(
        default=None, description="The NAME of the variable that holds the API key."
    )
    local: bool = False
    overrides: Settings | None = None

    @model_validator(mode="after")
    def _local_or_url(self) -> Environment:
        if self.local and self.api_url:
            raise ValueError("an environment is either 'local: true' or has an 'api_url', not both")
        return self


class Config(Strict):
    """A whole `flowfleet.yaml`."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    project: ProjectName | None = None
    defaults: Settings | None = None
    environments: Annotated[dict[EnvironmentName, Environment], Field(min_length=1)]
    work_pools: dict[str, WorkPoolSpec] = Field(default_factory=dict)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    concurrency_limits: dict[str, ConcurrencyLimitSpec] = Field(default_factory=dict)
    blocks: dict[str, BlockSpec] = Field(default_factory=dict)
    automations: dict[str, AutomationSpec] = Field(default_factory=dict)
    deployments: list[DeploymentEntry] = Field(default_factory=list)
