"""What flowfleet reads of a Prefect 2.x server (`flowfleet export` of a Prefect 2 server).

Names follow Prefect 2.20's response schemas (`prefect.server.schemas.responses`
.DeploymentResponse and `.core.BlockDocument`); the installed Prefect 3 no longer has
these fields, so `make test-compat` checks them against the Prefect 2 environment's own
schemas (tests/integration/test_prefect2.py), not tests/test_wire_contract.py.
"""

from __future__ import annotations

from typing import Any

from flowfleet.server.wire.base import Response
from flowfleet.server.wire.responses import BlockDocument, DeploymentSchedule, ScheduleSpec


class Prefect2Deployment(Response):
    """A Prefect 2 deployment: one `schedule` (2.19+ also lists `schedules`, without
    slugs), `infra_overrides` for the infrastructure block's fields, and storage."""

    id: str
    flow_id: str
    name: str
    entrypoint: str | None = None
    path: str | None = None
    parameters: dict[str, Any] | None = None
    schedule: ScheduleSpec | None = None
    is_schedule_active: bool | None = None
    schedules: list[DeploymentSchedule] | None = None
    tags: list[str] | None = None
    version: str | None = None
    description: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    infra_overrides: dict[str, Any] | None = None
    infrastructure_document_id: str | None = None
    storage_document_id: str | None = None
    pull_steps: list[dict[str, Any]] | None = None
    paused: bool | None = None
    enforce_parameter_schema: bool | None = None


class Prefect2BlockDocument(BlockDocument):
    """A block document read by id (an infrastructure or storage block), with its type."""


PREFECT_2_RESPONSES = (Prefect2Deployment, Prefect2BlockDocument)
