"""Bodies of the `/filter` endpoints flowfleet reads through: a filter per kind of object
(named as in `prefect.server.schemas.filters`) plus paging."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from flowfleet.server.wire.base import Request


class AnyOf(Request):
    any_: list[str]


class AllOf(Request):
    all_: list[str]


class NotAnyOf(Request):
    not_any_: list[str]


class FlowFilter(Request):
    id: AnyOf | None = None
    name: AnyOf | None = None


class DeploymentFilter(Request):
    id: NotAnyOf | None = None
    name: AnyOf | None = None
    tags: AllOf | None = None


class WorkPoolFilter(Request):
    id: AnyOf | None = None
    name: AnyOf | None = None


class VariableFilter(Request):
    name: AnyOf | None = None


class LogFilter(Request):
    flow_run_id: AnyOf | None = None


class BlockSchemaFilter(Request):
    block_type_id: AnyOf | None = None


class AutomationFilter(Request):
    name: AnyOf | None = None
    tags: AllOf | None = None


class BlockDocumentFilter(Request):
    name: AnyOf | None = None


class Page(Request):
    """A filter body; Api.read_all sets limit and offset page by page. A filter left unset
    is not sent (the routes take no null for it)."""

    limit: int = 200
    offset: int = 0


class DeploymentsFilter(Page):
    """POST /deployments/filter."""

    flows: FlowFilter = Field(default_factory=FlowFilter)
    deployments: DeploymentFilter = Field(default_factory=DeploymentFilter)


class FlowsFilter(Page):
    """POST /flows/filter."""

    flows: FlowFilter = Field(default_factory=FlowFilter)


class WorkPoolsFilter(Page):
    """POST /work_pools/filter."""

    work_pools: WorkPoolFilter = Field(default_factory=WorkPoolFilter)


class WorkQueuesFilter(Page):
    """POST /work_pools/{pool}/queues/filter."""


class VariablesFilter(Page):
    """POST /variables/filter."""

    variables: VariableFilter = Field(default_factory=VariableFilter)


class ConcurrencyLimitsFilter(Page):
    """POST /v2/concurrency_limits/filter."""


class LogsFilter(Page):
    """POST /logs/filter."""

    logs: LogFilter = Field(default_factory=LogFilter)
    sort: str = "TIMESTAMP_ASC"


class BlockSchemasFilter(Page):
    """POST /block_schemas/filter."""

    block_schemas: BlockSchemaFilter = Field(default_factory=BlockSchemaFilter)


class BlockDocumentsFilter(Page):
    """POST /block_documents/filter (secrets are never asked for: they stay obfuscated)."""

    block_documents: BlockDocumentFilter = Field(default_factory=BlockDocumentFilter)


def work_pools_named(names: Iterable[str]) -> WorkPoolsFilter:
    """The work pools with one of these names."""
    return WorkPoolsFilter(work_pools=WorkPoolFilter(name=AnyOf(any_=sorted(set(names)))))


class AutomationsFilter(Page):
    """POST /automations/filter."""

    automations: AutomationFilter | None = None
