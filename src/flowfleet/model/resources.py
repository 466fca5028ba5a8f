"""What flowfleet manages, fully resolved: the desired state, and later the live one."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(Frozen):
    """A resolved schedule: one kind set, defaults filled in, a stable slug."""

    slug: str
    cron: str | None = None
    interval: int | float | None = None
    rrule: str | None = None
    timezone: str = "UTC"
    anchor_date: str | None = None
    day_or: bool | None = None
    active: bool = True
    parameters: dict[str, Any] = {}
    max_scheduled_runs: int | None = None
    # The slug it had before: a rename keeps the live schedule (flowfleet.plan.normalize
    # .schedule_renames). Not stored by the server, so never compared.
    replaces: str | None = None


class ConcurrencyOptions(Frozen):
    """What the server does with a run over the deployment's concurrency limit, and how
    long a run may take to start before its slot is released (None: the server's
    setting)."""

    collision_strategy: str = "ENQUEUE"  # or CANCEL_NEW (the config allows only these)
    grace_period_seconds: int | None = None


# An action's reference by id on the wire → by name in flowfleet's form of it.
REFERENCES = {
    "deployment_id": "deployment",
    "work_pool_id": "work_pool",
    "work_queue_id": "work_queue",
    "automation_id": "automation",
    "block_document_id": "block",
}


class Automation(Frozen):
    """An automation as it should exist: the trigger and actions in the server's JSON
    form, except that actions refer to deployments (`flow/name`), work pools, queues
    (`pool/queue`), automations and blocks (`type/name`) by name, not by id."""

    name: str
    description: str = ""
    enabled: bool = True
    tags: tuple[str, ...] = ()
    trigger: dict[str, Any]
    actions: tuple[dict[str, Any], ...] = ()
    actions_on_trigger: tuple[dict[str, Any], ...] = ()
    actions_on_resolve: tuple[dict[str, Any], ...] = ()


class Deployment(Frozen):
    """One Prefect deployment as it should exist in one environment."""

    flow_name: str
    name: str
    entrypoint: str
    parameters: dict[str, Any] = {}
    schedules: tuple[Schedule, ...] = ()
    tags: tuple[str, ...] = ()
    version: str | None = None
    description: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = {}
    pull_steps: tuple[dict[str, Any], ...] | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    concurrency_options: ConcurrencyOptions | None = None
    enforce_parameter_schema: bool = True
    parameter_openapi_schema: dict[str, Any] | None = None
    # Applied as automations owned by the deployment (see flowfleet.plan.automations).
    triggers: tuple[Automation, ...] = ()
    # Not sent as fields: protection becomes a tag, secret names only mask output.
    protected: bool = False
    secret_env: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """Prefect's own identity of a deployment: (flow name, deployment name)."""
        return (self.flow_name, self.name)

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, schedules without the fields their kind does not use, the
        values of secret `job_variables.env` entries masked."""
        from flowfleet.model.masking import mask_env

        data = self.model_dump(
            mode="json",
            exclude={"parameter_openapi_schema", "protected", "secret_env"}
            | ({"concurrency_options"} if self.concurrency_options is None else set())
            | ({"triggers"} if not self.triggers else set()),
        )
        data["schedules"] = [s.model_dump(mode="json", exclude_none=True) for s in self.schedules]
        data["job_variables"] = mask_env(data["job_variables"], self.secret_env)
        if self.protected:
            data["protected"] = True
        if self.secret_env:
            data["secret_env"] = list(self.secret_env)
        return data


class LiveDeployment(Frozen):
    """A deployment as read from the server, in the same terms as the desired state."""

    id: str
    flow_id: str
    updated: str | None = None
    deployment: Deployment
    schedule_ids: dict[str, str] = {}

    @property
    def key(self) -> tuple[str, str]:
        return self.deployment.key


class LiveState(Frozen):
    """What one environment's server holds of what flowfleet looks at."""

    deployments: tuple[LiveDeployment, ...] = ()
    flows: dict[str, str] = {}  # flow name → id
    work_pools: frozenset[str] = frozenset()
    server_version: str | None = None  # GET /admin/version; None where it cannot be read


class WorkQueue(Frozen):
    """A work queue of a work pool."""

    name: str
    description: str | None = None
    priority: int | None = None
    concurrency_limit: int | None = None
    paused: bool = False


class WorkPool(Frozen):
    """A work pool with its final base job template (pool job variables as defaults)."""

    name: str
    type: str
    base_job_template: dict[str, Any] = {}
    description: str | None = None
    concurrency_limit: int | None = None
    paused: bool = False
    queues: tuple[WorkQueue, ...] = ()


class Variable(Frozen):
    """A Prefect variable."""

    name: str
    value: Any = None
    tags: tuple[str, ...] = ()


class ConcurrencyLimit(Frozen):
    """A global concurrency limit."""

    name: str
    limit: int
    active: bool = True
    slot_decay_per_second: float | None = None


class Block(Frozen):
    """A block document of a block type (by slug)."""

    name: str
    type: str
    fields: dict[str, Any] = {}
    secret_fields: tuple[str, ...] = ()  # set from ${VAR}: never printed


class Infrastructure(Frozen):
    """Everything besides deployments that one environment declares."""

    work_pools: tuple[WorkPool, ...] = ()
    variables: tuple[Variable, ...] = ()
    concurrency_limits: tuple[ConcurrencyLimit, ...] = ()
    blocks: tuple[Block, ...] = ()
    automations: tuple[Automation, ...] = ()

    def pool(self, name: str | None) -> WorkPool | None:
        return next((p for p in self.work_pools if p.name == name), None)


# The deployment fields flowfleet manages: compared by the plan, sent by apply.
COMPARED_FIELDS = (
    "entrypoint",
    "parameters",
    "schedules",
    "tags",
    "version",
    "description",
    "work_pool_name",
    "work_queue_name",
    "job_variables",
    "pull_steps",
    "paused",
    "concurrency_limit",
    "concurrency_options",
    "enforce_parameter_schema",
    "parameter_openapi_schema",
)


def queue_name(deployment: Deployment) -> str | None:
    """The queue the server puts the deployment in (a pool without a queue → "default")."""
    return deployment.work_queue_name or ("default" if deployment.work_pool_name else None)


def anchor_instant(anchor: str, timezone: str) -> str:
    """An anchor date as a UTC instant; a naive one is in the schedule's time zone."""
    moment = datetime.fromisoformat(anchor.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(ZoneInfo("UTC")).isoformat()
