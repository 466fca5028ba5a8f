"""The wire contract with Prefect's REST API: every request body flowfleet sends and
every response field it reads, as pydantic models.

Requests forbid unknown fields and are sent as `model_dump(exclude_unset=True)`: a field
goes on the wire only when the code building the body set it (so a None that must be
sent, such as a deployment's `version`, is set explicitly and sent). Responses ignore
what flowfleet does not read and tolerate what older servers return. Both are checked
against the installed Prefect's own server schemas by tests/test_wire_contract.py; this
package never imports Prefect (it costs seconds at every start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowfleet.server.wire.base import Request, Response
from flowfleet.server.wire.filters import (
    AllOf,
    AnyOf,
    AutomationFilter,
    AutomationsFilter,
    BlockSchemaFilter,
    BlockSchemasFilter,
    ConcurrencyLimitsFilter,
    DeploymentFilter,
    DeploymentsFilter,
    FlowFilter,
    FlowsFilter,
    LogFilter,
    LogsFilter,
    NotAnyOf,
    Page,
    VariableFilter,
    VariablesFilter,
    WorkPoolFilter,
    WorkPoolsFilter,
    WorkQueuesFilter,
    work_pools_named,
)
from flowfleet.server.wire.prefect2 import (
    PREFECT_2_RESPONSES,
    Prefect2BlockDocument,
    Prefect2Deployment,
)
from flowfleet.server.wire.requests import (
    AutomationCreate,
    AutomationUpdate,
    BlockDocumentCreate,
    BlockDocumentUpdate,
    BlockSchemaCreate,
    BlockTypeCreate,
    ConcurrencyLimitV2Create,
    ConcurrencyLimitV2Update,
    ConcurrencyOptions,
    CronSchedule,
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
    FlowCreate,
    IntervalSchedule,
    RRuleSchedule,
    VariableCreate,
    VariableUpdate,
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from flowfleet.server.wire.responses import (
    Automation,
    BlockDocument,
    BlockSchema,
    BlockType,
    BlockTypeRef,
    DeploymentConcurrencyLimit,
    DeploymentConcurrencyOptions,
    DeploymentResponse,
    DeploymentSchedule,
    Flow,
    FlowRunResponse,
    GlobalConcurrencyLimit,
    Log,
    ScheduleSpec,
    State,
    Variable,
    WorkPoolResponse,
    WorkQueueResponse,
)
from flowfleet.server.wire.since import FIELD_SINCE

Body = Request | Sequence[Request]


def to_json(body: Body | None) -> Any:
    """The JSON of a request body (a model, or a list of models for bulk endpoints)."""
    if body is None:
        return None
    if isinstance(body, Request):
        return body.body()
    return [item.body() for item in body]


__all__ = [
    "FIELD_SINCE",
    "PREFECT_2_RESPONSES",
    "AllOf",
    "AnyOf",
    "Automation",
    "AutomationCreate",
    "AutomationFilter",
    "AutomationUpdate",
    "AutomationsFilter",
    "BlockDocument",
    "BlockDocumentCreate",
    "BlockDocumentUpdate",
    "BlockSchema",
    "BlockSchemaCreate",
    "BlockSchemaFilter",
    "BlockSchemasFilter",
    "BlockType",
    "BlockTypeCreate",
    "BlockTypeRef",
    "Body",
    "ConcurrencyLimitV2Create",
    "ConcurrencyLimitV2Update",
    "ConcurrencyLimitsFilter",
    "ConcurrencyOptions",
    "CronSchedule",
    "DeploymentConcurrencyLimit",
    "DeploymentConcurrencyOptions",
    "DeploymentCreate",
    "DeploymentFilter",
    "DeploymentFlowRunCreate",
    "DeploymentResponse",
    "DeploymentSchedule",
    "DeploymentScheduleCreate",
    "DeploymentScheduleUpdate",
    "DeploymentUpdate",
    "DeploymentsFilter",
    "Flow",
    "FlowCreate",
    "FlowFilter",
    "FlowRunResponse",
    "FlowsFilter",
    "GlobalConcurrencyLimit",
    "IntervalSchedule",
    "Log",
    "LogFilter",
    "LogsFilter",
    "NotAnyOf",
    "Page",
    "Prefect2BlockDocument",
    "Prefect2Deployment",
    "RRuleSchedule",
    "Request",
    "Response",
    "ScheduleSpec",
    "State",
    "Variable",
    "VariableCreate",
    "VariableFilter",
    "VariableUpdate",
    "VariablesFilter",
    "WorkPoolCreate",
    "WorkPoolFilter",
    "WorkPoolResponse",
    "WorkPoolUpdate",
    "WorkPoolsFilter",
    "WorkQueueCreate",
    "WorkQueueResponse",
    "WorkQueueUpdate",
    "WorkQueuesFilter",
    "to_json",
    "work_pools_named",
]
