"""Request bodies of Prefect API writes. Names follow Prefect's own action schemas
(`prefect.server.schemas.actions`); each has only the fields flowfleet sends.

A field with a non-None default that Prefect would not accept as null (e.g. an interval
schedule's `anchor_date`) is omitted unless set: bodies are dumped with exclude_unset.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowfleet.server.wire.base import Request


class FlowCreate(Request):
    """POST /flows/ (an upsert by name)."""

    name: str


class CronSchedule(Request):
    cron: str
    timezone: str | None = None
    day_or: bool = True


class IntervalSchedule(Request):
    interval: int | float  # seconds
    anchor_date: str = ""  # an ISO instant with its offset; omitted unless set
    timezone: str | None = None


class RRuleSchedule(Request):
    rrule: str
    timezone: str | None = None


class DeploymentScheduleCreate(Request):
    """One item of POST /deployments/{id}/schedules, or of a deployment's `schedules`."""

    schedule: CronSchedule | IntervalSchedule | RRuleSchedule
    active: bool = True
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None
    max_scheduled_runs: int | None = None


class DeploymentScheduleUpdate(DeploymentScheduleCreate):
    """PATCH /deployments/{id}/schedules/{schedule_id}."""


class ConcurrencyOptions(Request):
    """A deployment's `concurrency_options` (`grace_period_seconds` since Prefect 3.6.6;
    older servers drop it: flowfleet.plan.features refuses it before any write)."""

    collision_strategy: str  # ENQUEUE or CANCEL_NEW
    grace_period_seconds: int | None = None


class _DeploymentFields(Request):
    """The deployment fields flowfleet manages (see flowfleet.plan.COMPARED_FIELDS)."""

    entrypoint: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    version: str | None = None
    description: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    pull_steps: list[dict[str, Any]] | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    concurrency_options: ConcurrencyOptions | None = None
    enforce_parameter_schema: bool = True
    parameter_openapi_schema: dict[str, Any] | None = None


class DeploymentCreate(_DeploymentFields):
    """POST /deployments/ (an upsert on flow id and name)."""

    name: str
    flow_id: str
    schedules: list[DeploymentScheduleCreate] = Field(default_factory=list)


class DeploymentUpdate(_DeploymentFields):
    """PATCH /deployments/{id}: only the changed fields are set."""


class WorkPoolUpdate(Request):
    """PATCH /work_pools/{name}."""

    base_job_template: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    concurrency_limit: int | None = None
    is_paused: bool = False


class WorkPoolCreate(WorkPoolUpdate):
    """POST /work_pools/."""

    name: str
    type: str


class WorkQueueUpdate(Request):
    """PATCH /work_pools/{pool}/queues/{name}."""

    description: str | None = None
    priority: int | None = None
    concurrency_limit: int | None = None
    is_paused: bool = False


class WorkQueueCreate(WorkQueueUpdate):
    """POST /work_pools/{pool}/queues."""

    name: str


class VariableUpdate(Request):
    """PATCH /variables/name/{name} or /variables/{id}."""

    value: Any = None  # any JSON value
    tags: list[str] = Field(default_factory=list)


class VariableCreate(VariableUpdate):
    """POST /variables/ (409 when the name is taken: the lock relies on it)."""

    name: str


class ConcurrencyLimitV2Update(Request):
    """PATCH /v2/concurrency_limits/{name}."""

    limit: int = 0
    active: bool = True
    slot_decay_per_second: float = 0.0


class ConcurrencyLimitV2Create(ConcurrencyLimitV2Update):
    """POST /v2/concurrency_limits/."""

    name: str


class BlockTypeCreate(Request):
    """POST /block_types/ (registering a block type of an installed collection)."""

    name: str
    slug: str
    logo_url: str | None = None
    documentation_url: str | None = None
    description: str | None = None
    code_example: str | None = None


class BlockSchemaCreate(Request):
    """POST /block_schemas/ (a block type's schema, as its Block class describes it)."""

    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: str
    capabilities: list[str] = Field(default_factory=list)
    version: str


class BlockDocumentCreate(Request):
    """POST /block_documents/."""

    name: str
    data: dict[str, Any] = Field(default_factory=dict)
    block_type_id: str
    block_schema_id: str


class BlockDocumentUpdate(Request):
    """PATCH /block_documents/{id}."""

    data: dict[str, Any] = Field(default_factory=dict)
    merge_existing_data: bool = True


class DeploymentFlowRunCreate(Request):
    """POST /deployments/{id}/create_flow_run."""

    parameters: dict[str, Any] = Field(default_factory=dict)


class AutomationUpdate(Request):
    """PUT /automations/{id}: the whole automation (trigger and actions as the server's
    JSON: see flowfleet.render.automations)."""

    name: str
    description: str = ""
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    trigger: dict[str, Any]
    actions: list[dict[str, Any]]
    actions_on_trigger: list[dict[str, Any]] = Field(default_factory=list)
    actions_on_resolve: list[dict[str, Any]] = Field(default_factory=list)


class AutomationCreate(AutomationUpdate):
    """POST /automations/; `owner_resource` (`prefect.deployment.<id>`) is never read back."""

    owner_resource: str | None = None
