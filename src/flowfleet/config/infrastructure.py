"""Infrastructure declared next to the deployments: work pools (with their queues),
Prefect variables, global concurrency limits and blocks.

Each is a map `name → spec` at the top of the config. A name may use `{env}`. `environments`
limits where a resource exists (a list of names) or changes it per environment (a map of
environment → overrides); without it the resource exists in every environment.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from flowfleet.config.base import Strict, Text

NonNegative = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(gt=0)]


class WorkQueueSpec(Strict):
    """A work queue of a pool."""

    description: Text | None = None
    priority: Positive | None = None
    concurrency_limit: NonNegative | None = None
    paused: bool | None = None


class WorkPoolSettings(Strict):
    """The fields of a work pool that may differ per environment."""

    type: Text | None = None
    base_job_template: str | dict[str, Any] | None = Field(
        default=None,
        description="A JSON or YAML file (relative to the config) or an inline mapping; "
        "default: the worker type's own template.",
    )
    description: Text | None = None
    concurrency_limit: NonNegative | None = None
    paused: bool | None = None
    job_variables: dict[str, Any] | None = Field(
        default=None, description="Defaults for every deployment in the pool."
    )
    queues: dict[str, WorkQueueSpec | None] | None = None


class WorkPoolSpec(WorkPoolSettings):
    """A work pool: `type` is the worker type (process, docker, kubernetes, ecs, ...)."""

    environments: list[str] | dict[str, WorkPoolSettings | None] | None = None


class VariableSettings(Strict):
    value: Any = None
    tags: list[Text] | None = None


class VariableSpec(VariableSettings):
    """A Prefect variable (any JSON value)."""

    environments: list[str] | dict[str, VariableSettings | None] | None = None


class ConcurrencyLimitSettings(Strict):
    limit: NonNegative | None = None
    active: bool | None = None
    slot_decay_per_second: Annotated[float, Field(ge=0)] | None = None


class ConcurrencyLimitSpec(ConcurrencyLimitSettings):
    """A global concurrency limit."""

    environments: list[str] | dict[str, ConcurrencyLimitSettings | None] | None = None


class BlockSettings(Strict):
    type: Text | None = Field(
        default=None, description="The block type slug, e.g. aws-credentials."
    )
    fields: dict[str, Any] | None = Field(
        default=None, description="Field values; take secrets from ${VAR}, never write them here."
    )


class BlockSpec(BlockSettings):
    """A block document, e.g. the AwsCredentials an ECS pool's template refers to."""

    environments: list[str] | dict[str, BlockSettings | None] | None = None
