"""The fields flowfleet reads of Prefect's answers. Names follow Prefect's response
schemas (`prefect.server.schemas.responses` and `.core`). Everything but ids and names
is optional and nullable: an older server may omit a field or send null (Prefect 3.4
returns a deployment's `concurrency_limit` as null, with the limit under
`global_concurrency_limit.limit`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowfleet.server.wire.base import Response


class Flow(Response):
    id: str
    name: str


class ScheduleSpec(Response):
    """A cron, interval or rrule schedule: the fields of the one it is are set."""

    cron: str | None = None
    day_or: bool | None = None
    interval: int | float | None = None  # seconds
    anchor_date: str | None = None
    rrule: str | None = None
    timezone: str | None = None


class DeploymentSchedule(Response):
    id: str
    schedule: ScheduleSpec | None = None
    active: bool = True
    parameters: dict[str, Any] | None = None
    slug: str | None = None
    max_scheduled_runs: int | None = None


class DeploymentConcurrencyLimit(Response):
    """A deployment's `global_concurrency_limit` (named `deployment:<id>`)."""

    limit: int | None = None


class DeploymentConcurrencyOptions(Response):
    """A deployment's `concurrency_options` (`grace_period_seconds` since Prefect 3.6.6)."""

    collision_strategy: str | None = None
    grace_period_seconds: int | None = None


class DeploymentResponse(Response):
    id: str
    flow_id: str
    name: str
    updated: str | None = None
    entrypoint: str | None = None
    parameters: dict[str, Any] | None = None
    schedules: list[DeploymentSchedule] | None = None
    tags: list[str] | None = None
    version: str | None = None
    description: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None
    pull_steps: list[dict[str, Any]] | None = None
    paused: bool | None = None
    concurrency_limit: int | None = None
    global_concurrency_limit: DeploymentConcurrencyLimit | None = None
    concurrency_options: DeploymentConcurrencyOptions | None = None
    enforce_parameter_schema: bool | None = None
    parameter_openapi_schema: dict[str, Any] | None = None


class WorkPoolResponse(Response):
    id: str
    name: str
    type: str
    base_job_template: dict[str, Any] | None = None
    description: str | None = None
    concurrency_limit: int | None = None
    is_paused: bool | None = None


class WorkQueueResponse(Response):
    id: str
    name: str
    work_pool_name: str | None = None
    description: str | None = None
    priority: int | None = None
    concurrency_limit: int | None = None
    is_paused: bool | None = None


class Variable(Response):
    id: str
    name: str
    value: Any = None  # any JSON value
    tags: list[str] | None = None


class GlobalConcurrencyLimit(Response):
    id: str
    name: str
    limit: int
    active: bool = True
    slot_decay_per_second: float | None = None


class BlockType(Response):
    id: str


class BlockSchema(Response):
    id: str


class BlockTypeRef(Response):
    slug: str


class BlockDocument(Response):
    """A block document with its type; `data` holds the blocks it refers to inline, and
    `block_document_references` says which (field → {"block_document": {name, block_type,
    is_anonymous, ...}})."""

    id: str
    name: str | None = None
    data: dict[str, Any] | None = None
    block_type: BlockTypeRef | None = None
    block_document_references: dict[str, Any] | None = None


class State(Response):
    type: str | None = None
    message: str | None = None


class FlowRunResponse(Response):
    id: str
    name: str
    state: State | None = None
    parameters: dict[str, Any] | None = None


class Log(Response):
    message: str


class Automation(Response):
    """An automation (POST /automations/filter, GET /automations/{id})."""

    id: str
    name: str
    description: str = ""
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    trigger: dict[str, Any]
    actions: list[dict[str, Any]] = Field(default_factory=list)
    actions_on_trigger: list[dict[str, Any]] = Field(default_factory=list)
    actions_on_resolve: list[dict[str, Any]] = Field(default_factory=list)
    updated: str | None = None
