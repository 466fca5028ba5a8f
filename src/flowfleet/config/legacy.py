"""The older one-file-per-environment format, loaded unchanged as one environment.

ib-block: ecs-task/prod            # a Prefect 2 infrastructure block
deployments:
  - name: daily
    entrypoint: flows/hello.py:hello
    parameters: {number: 1}
    schedule: {cron: "0 0 * * *", timezone: UTC, anchor-date: ...}
    tags: [a]
    version: "1"
    work_pool: {name: pool, work_queue_name: default}
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from flowfleet.config import checks
from flowfleet.config.base import Strict, Text
from flowfleet.config.document import DocPath
from flowfleet.config.models import (
    AnchorDate,
    Config,
    Cron,
    DeploymentEntry,
    Environment,
    JsonObject,
    Name,
    RRule,
    Schedule,
    Seconds,
    TimeZone,
    WorkPool,
)

IB_BLOCK_WARNING = (
    "'ib-block' names a Prefect 2 infrastructure block ({block}); Prefect 3 has no "
    "infrastructure blocks, so it is ignored. Declare the infrastructure as a work pool "
    "('work_pool: {{name: ...}}') and per-deployment 'job_variables' instead."
)


class LegacySchedule(Strict):
    cron: Cron | None = None
    interval: Seconds | None = None
    rrule: RRule | None = None
    timezone: TimeZone | None = None
    anchor_date: AnchorDate | None = Field(default=None, alias="anchor-date")

    @model_validator(mode="after")
    def _one_kind(self) -> LegacySchedule:
        checks.one_schedule_kind(self.cron, self.interval, self.rrule)
        return self

    @field_validator("anchor_date")
    @classmethod
    def _interval_only(cls, value: Any, info: ValidationInfo) -> Any:
        return checks.only_for("anchor-date", value, info.data.get("interval"), "interval")


class LegacyWorkPool(Strict):
    name: Text | None = None
    work_queue_name: Text | None = None


class LegacyDeployment(Strict):
    name: Name
    entrypoint: str
    parameters: JsonObject | None = None
    schedule: LegacySchedule | None = None
    tags: list[Text] | None = None
    version: Text | None = None
    description: Text | None = None
    work_pool: LegacyWorkPool | None = None
    protected: bool | None = None


class LegacyFile(Strict):
    """A whole file in the older format."""

    ib_block: Text | None = Field(default=None, alias="ib-block")
    deployments: list[LegacyDeployment]


def to_config(legacy: LegacyFile, project: str, environment: str) -> Config:
    """The same deployments in the flowfleet format, as a single environment."""
    return Config(
        project=project,
        environments={environment: Environment()},
        deployments=[_entry(d) for d in legacy.deployments],
    )


def _entry(d: LegacyDeployment) -> DeploymentEntry:
    schedules = None
    if d.schedule is not None:
        s = d.schedule
        schedules = [
            Schedule(
                cron=s.cron,
                interval=s.interval,
                rrule=s.rrule,
                timezone=s.timezone,
                anchor_date=s.anchor_date,
            )
        ]
    pool = None
    if d.work_pool is not None:
        pool = WorkPool(name=d.work_pool.name, work_queue_name=d.work_pool.work_queue_name)
    return DeploymentEntry(
        name=d.name,
        entrypoint=d.entrypoint,
        parameters=d.parameters,
        schedules=schedules,
        tags=d.tags,
        version=d.version,
        description=d.description,
        work_pool=pool,
        protected=d.protected,
    )


def legacy_path(path: DocPath) -> DocPath:
    """Where a flowfleet-format path of a converted file is in the original file."""
    if len(path) >= 4 and path[0] == "deployments" and path[2] == "schedules":
        rest = tuple("anchor-date" if p == "anchor_date" else p for p in path[4:])
        return (*path[:2], "schedule", *rest)
    return path
