"""Triggers and automations, as `prefect.yaml` and Prefect's automations API define them.

A deployment's `triggers:` are the `prefect.yaml` ones: each becomes an automation owned
by the deployment whose action runs it. The top-level `automations:` declare any
trigger with any actions; deployments, work pools, queues, automations and blocks are
referred to by name (resolved to ids at apply). The type of a trigger is inferred as
Prefect infers it when `type` is left out. Durations are seconds.
"""

from __future__ import annotations

import functools
import operator
import typing
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator

from flowfleet.config.base import Strict, Text

MAX_SECONDS = 999_999_999 * 86_400  # the longest timedelta (Prefect keeps durations so)
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
MetricSeconds = Annotated[float, Field(ge=300, le=MAX_SECONDS, allow_inf_nan=False)]
Labels = dict[str, Text | list[Text]]
EventNames = list[Text]


def _labels_or_list(value: Any) -> str:
    return "List" if isinstance(value, list) else "Labels"


MatchRelated = Annotated[
    Annotated[Labels, Tag("Labels")] | Annotated[list[Labels], Tag("List")],
    Discriminator(_labels_or_list),
]


class EventTrigger(Strict):
    """Fires on the presence (Reactive) or absence (Proactive) of events."""

    type: Literal["event"] = "event"
    match: Labels | None = Field(default=None, description="Labels of the event's resource.")
    match_related: MatchRelated | None = Field(
        default=None, description="Labels of related resources (a mapping, or a list of them)."
    )
    after: EventNames | None = None
    expect: EventNames | None = None
    for_each: list[Text] | None = None
    posture: Literal["Reactive", "Proactive"] = "Reactive"
    threshold: Annotated[int, Field(ge=1)] = 1
    within: Seconds | None = Field(
        default=None, description="Seconds; at least 10 for a Proactive trigger."
    )

    @field_validator("within")
    @classmethod
    def _proactive_window(cls, within: float | None, info: ValidationInfo) -> float | None:
        if info.data.get("posture") == "Proactive" and within and within < 10:
            raise ValueError(
                f"a Proactive trigger waits at least 10 seconds, found {within:g}; set 10 or "
                "more (left out or 0: 10)"
            )
        return within


class MetricQuery(Strict):
    name: Literal["lateness", "duration", "successes"]
    threshold: float
    operator: Literal["<", "<=", ">", ">="]
    range: MetricSeconds = 300
    firing_for: MetricSeconds = 300


class MetricTrigger(Strict):
    """Fires on a metric query (Prefect Cloud only: the open-source server refuses it)."""

    type: Literal["metric"] = "metric"
    match: Labels | None = None
    match_related: MatchRelated | None = None
    posture: Literal["Metric"] = "Metric"
    metric: MetricQuery


class CompositeTrigger(Strict):
    within: Seconds | None = None
    triggers: Annotated[list[TriggerSpec], Field(min_length=1)]


class CompoundTrigger(CompositeTrigger):
    """Fires when `require` (a number, any or all) of its triggers fired."""

    type: Literal["compound"] = "compound"
    require: Annotated[int, Field(ge=1)] | Literal["any", "all"]

    @field_validator("require")
    @classmethod
    def _require_at_most_triggers(cls, require: int | str, info: ValidationInfo) -> int | str:
        triggers = info.data.get("triggers")
        if isinstance(require, int) and triggers is not None and require > len(triggers):
            raise ValueError(
                f"{require} of {len(triggers)} triggers required; require at most as many as "
                "there are, or 'any' / 'all'"
            )
        return require


class SequenceTrigger(CompositeTrigger):
    """Fires when its triggers fired in order."""

    type: Literal["sequence"] = "sequence"


def trigger_type(value: Any) -> str:
    """The type of a trigger as Prefect infers it (`trigger_discriminator`)."""
    if not isinstance(value, dict):
        return str(getattr(value, "type", "event"))
    if "type" in value:
        return str(value["type"])
    if "triggers" in value:
        return "compound" if "require" in value else "sequence"
    return "metric" if value.get("posture") == "Metric" else "event"


def deployment_trigger_type(value: Any) -> str:
    """As Prefect infers a deployment trigger's (posture Metric is checked first)."""
    if isinstance(value, dict) and "type" not in value and value.get("posture") == "Metric":
        return "metric"
    return trigger_type(value)


TriggerSpec = Annotated[
    Annotated[EventTrigger, Tag("event")]
    | Annotated[MetricTrigger, Tag("metric")]
    | Annotated[CompoundTrigger, Tag("compound")]
    | Annotated[SequenceTrigger, Tag("sequence")],
    Discriminator(trigger_type),
]
CompositeTrigger.model_rebuild()


class RunOptions(Strict):
    """What an automation made from a deployment's trigger is and how it runs it."""

    name: Text | None = Field(
        default=None, description="Default: `<deployment>__automation_<n>`, as Prefect names it."
    )
    description: Text | None = None
    enabled: bool | None = None
    parameters: dict[str, Any] | None = Field(
        default=None, description="Run parameters; `{{ event }}` templates are kept verbatim."
    )
    job_variables: dict[str, Any] | None = None
    schedule_after: Seconds | None = None


class DeploymentEventTrigger(RunOptions, EventTrigger):
    pass


class DeploymentMetricTrigger(RunOptions, MetricTrigger):
    pass


class DeploymentCompoundTrigger(RunOptions, CompoundTrigger):
    pass


class DeploymentSequenceTrigger(RunOptions, SequenceTrigger):
    pass


DeploymentTrigger = Annotated[
    Annotated[DeploymentEventTrigger, Tag("event")]
    | Annotated[DeploymentMetricTrigger, Tag("metric")]
    | Annotated[DeploymentCompoundTrigger, Tag("compound")]
    | Annotated[DeploymentSequenceTrigger, Tag("sequence")],
    Discriminator(deployment_trigger_type),
]


# --- actions -------------------------------------------------------------------------

Source = Literal["selected", "inferred"]


class RunDeployment(Strict):
    """Run a deployment (`flow/deployment`; left out: the one the event is about)."""

    type: Literal["run-deployment"]
    deployment: Text | None = None
    parameters: dict[str, Any] | None = None
    job_variables: dict[str, Any] | None = None
    schedule_after: Seconds | None = None


class DeploymentAction(Strict):
    type: Literal["pause-deployment", "resume-deployment"]
    deployment: Text | None = Field(
        default=None, description="`flow/deployment`; left out: the one the event is about."
    )


class WorkPoolAction(Strict):
    type: Literal["pause-work-pool", "resume-work-pool"]
    work_pool: Text | None = None


class WorkQueueAction(Strict):
    type: Literal["pause-work-queue", "resume-work-queue"]
    work_queue: Text | None = Field(default=None, description="`pool/queue`.")


class AutomationAction(Strict):
    type: Literal["pause-automation", "resume-automation"]
    automation: Text | None = None


class ChangeFlowRunState(Strict):
    type: Literal["change-flow-run-state"]
    state: Literal[
        "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED",
        "PAUSED", "CANCELLING",
    ]  # fmt: skip
    name: Text | None = None
    message: Text | None = None
    force: bool | None = None


class FlowRunAction(Strict):
    type: Literal["cancel-flow-run", "suspend-flow-run", "resume-flow-run", "do-nothing"]


class SendNotification(Strict):
    type: Literal["send-notification"]
    block: Text = Field(description="The notification block, `type/name`.")
    subject: Text | None = None
    body: Text


class CallWebhook(Strict):
    type: Literal["call-webhook"]
    block: Text = Field(description="The webhook block, `type/name`.")
    payload: Text | None = None


def _action_type(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return str(kind)


_ACTIONS: tuple[type[Strict], ...] = (
    RunDeployment,
    DeploymentAction,
    WorkPoolAction,
    WorkQueueAction,
    AutomationAction,
    ChangeFlowRunState,
    FlowRunAction,
    SendNotification,
    CallWebhook,
)
# Every action type is its own tag, so that an unknown `type` is reported as such.
ACTION_TYPES = {
    name: model
    for model in _ACTIONS
    for name in typing.get_args(model.model_fields["type"].annotation)
}
if typing.TYPE_CHECKING:
    ActionSpec = (
        RunDeployment
        | DeploymentAction
        | WorkPoolAction
        | WorkQueueAction
        | AutomationAction
        | ChangeFlowRunState
        | FlowRunAction
        | SendNotification
        | CallWebhook
    )
else:
    ActionSpec = Annotated[
        functools.reduce(operator.or_, (Annotated[m, Tag(n)] for n, m in ACTION_TYPES.items())),
        Discriminator(_action_type),
    ]


class AutomationSettings(Strict):
    """The fields of an automation that may differ per environment."""

    description: Text | None = None
    enabled: bool | None = None
    tags: list[Text] | None = None
    trigger: TriggerSpec | None = None
    actions: list[ActionSpec] | None = None
    actions_on_trigger: list[ActionSpec] | None = None
    actions_on_resolve: list[ActionSpec] | None = None


class AutomationSpec(AutomationSettings):
    """An automation: a trigger and what to do when it fires."""

    environments: list[str] | dict[str, AutomationSettings | None] | None = None
