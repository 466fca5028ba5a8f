"""The wire contract (flowfleet.server.wire) against the installed Prefect's own server schemas.

Offline: no server. Each request model must only send fields that Prefect's action schema
(or, for a `/filter` body, the route's parameters) has, with types it accepts; a maximal
example (every field set) must validate with Prefect's model and lose no field. Each
response model must only read fields that Prefect's response schema has, accepting every
type Prefect may send. Fields that not every supported server has are listed, with the
first version that has them, in flowfleet.server.wire.FIELD_SINCE, and checked both ways here.
Run with the oldest supported Prefect too (see docs / the report of issue 11).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import prefect
import pytest
from packaging.version import Version
from prefect.server.schemas import actions, core, responses
from pydantic import BaseModel, ConfigDict, create_model

from flowfleet.server import wire
from flowfleet.server.read import parse_deployment

INSTALLED = Version(prefect.__version__)
FLOW_ID = "0b0e8f3e-9a46-4c3e-9d3c-6f1f1e0c7a11"
BLOCK_TYPE_ID = "5d2f5c0c-0d7c-4f0a-8f0a-2b8c7c1c3a22"
BLOCK_SCHEMA_ID = "7a1e9a55-2f3e-4d7e-9b1e-3c4d5e6f7a33"
ALL_KINDS = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


def _route(module: str, function: str) -> type[BaseModel]:
    """The body a `/filter` route takes, as a model (its parameters forbid extra keys:
    FastAPI answers 422 to an unknown body field of these routes)."""
    from fastapi import params

    fn = getattr(importlib.import_module(f"prefect.server.api.{module}"), function)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(fn, eval_str=True).parameters.items():
        default = parameter.default
        annotation = parameter.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        # `limit` comes through LimitBody(), a dependency that reads the body's `limit`
        if (
            isinstance(default, params.Body)
            or name == "limit"
            or is_model
            or _optional_model(annotation)
        ):
            fields[name] = (annotation, None)
    return create_model(f"{function}_body", __config__=ConfigDict(extra="forbid"), **fields)


def _answer(module: str, function: str) -> type[BaseModel]:
    """The model of the items a `/filter` route answers with."""
    fn = getattr(importlib.import_module(f"prefect.server.api.{module}"), function)
    (item,) = inspect.signature(fn, eval_str=True).return_annotation.__args__
    assert issubclass(item, BaseModel)
    return item


def _optional_model(annotation: Any) -> bool:
    args = getattr(annotation, "__args__", ())
    return any(isinstance(a, type) and issubclass(a, BaseModel) for a in args)


SCHEDULE = {"active": False, "parameters": {"n": 1}, "slug": "daily", "max_scheduled_runs": 5}
CRON = wire.CronSchedule(cron="0 6 * * *", timezone="Europe/Paris", day_or=False)
INTERVAL = wire.IntervalSchedule(
    interval=3600, anchor_date="2026-01-01T00:00:00+00:00", timezone="UTC"
)
RRULE = wire.RRuleSchedule(rrule="FREQ=DAILY;INTERVAL=1", timezone="UTC")
DEPLOYMENT_FIELDS: dict[str, Any] = {
    "entrypoint": "flows/hello.py:hello",
    "parameters": {"n": 1},
    "tags": ["a", "flowfleet:p/dev"],
    "version": "1.0",
    "description": "hello",
    "work_pool_name": "pool",
    "work_queue_name": "default",
    "job_variables": {"image": "x"},
    "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": "/a"}}],
    "paused": True,
    "concurrency_limit": 2,
    "concurrency_options": wire.ConcurrencyOptions(
        collision_strategy="CANCEL_NEW", grace_period_seconds=120
    ),
    "enforce_parameter_schema": False,
    "parameter_openapi_schema": {"type": "object", "properties": {}},
}
POOL = {
    "base_job_template": {
        "job_configuration": {"command": "{{ command }}"},
        "variables": {"properties": {"command": {"type": "string"}}},
    },
    "description": "d",
    "concurrency_limit": 3,
    "is_paused": True,
}
QUEUE = {"description": "d", "priority": 2, "concurrency_limit": 1, "is_paused": True}
LIMIT = {"limit": 4, "active": False, "slot_decay_per_second": 0.5}
ANY = wire.AnyOf(any_=[FLOW_ID])
AUTOMATION: dict[str, Any] = {
    "name": "on-ping",
    "description": "d",
    "enabled": False,
    "tags": ["flowfleet:p/dev"],
    "trigger": {"type": "event", "expect": ["ping"], "posture": "Reactive", "within": 0.0},
    "actions": [{"type": "run-deployment", "source": "selected", "deployment_id": FLOW_ID}],
    "actions_on_trigger": [{"type": "do-nothing"}],
    "actions_on_resolve": [{"type": "cancel-flow-run"}],
}

# request model → (Prefect's schema of that body, maximal examples: every field set)
REQUESTS: dict[type[wire.Request], tuple[Callable[[], type[BaseModel]], list[wire.Request]]] = {
    wire.FlowCreate: (lambda: actions.FlowCreate, [wire.FlowCreate(name="hello")]),
    wire.DeploymentCreate: (
        lambda: actions.DeploymentCreate,
        [
            wire.DeploymentCreate(
                name="daily",
                flow_id=FLOW_ID,
                schedules=[
                    wire.DeploymentScheduleCreate(schedule=spec, **SCHEDULE)
                    for spec in (CRON, INTERVAL, RRULE)
                ],
                **DEPLOYMENT_FIELDS,
            )
        ],
    ),
    wire.DeploymentUpdate: (
        lambda: actions.DeploymentUpdate,
        [wire.DeploymentUpdate(**DEPLOYMENT_FIELDS)],
    ),
    wire.DeploymentScheduleCreate: (
        lambda: actions.DeploymentScheduleCreate,
        [wire.DeploymentScheduleCreate(schedule=s, **SCHEDULE) for s in (CRON, INTERVAL, RRULE)],
    ),
    wire.DeploymentScheduleUpdate: (
        lambda: actions.DeploymentScheduleUpdate,
        [wire.DeploymentScheduleUpdate(schedule=s, **SCHEDULE) for s in (CRON, INTERVAL, RRULE)],
    ),
    wire.WorkPoolCreate: (
        lambda: actions.WorkPoolCreate,
        [wire.WorkPoolCreate(name="pool", type="process", **POOL)],
    ),
    wire.WorkPoolUpdate: (lambda: actions.WorkPoolUpdate, [wire.WorkPoolUpdate(**POOL)]),
    wire.WorkQueueCreate: (
        lambda: actions.WorkQueueCreate,
        [wire.WorkQueueCreate(name="q", **QUEUE)],
    ),
    wire.WorkQueueUpdate: (lambda: actions.WorkQueueUpdate, [wire.WorkQueueUpdate(**QUEUE)]),
    wire.VariableCreate: (
        lambda: actions.VariableCreate,
        [wire.VariableCreate(name="v", value={"holder": "me"}, tags=["t"])],
    ),
    wire.VariableUpdate: (
        lambda: actions.VariableUpdate,
        [wire.VariableUpdate(value=[1, "two"], tags=["t"])],
    ),
    wire.ConcurrencyLimitV2Create: (
        lambda: actions.ConcurrencyLimitV2Create,
        [wire.ConcurrencyLimitV2Create(name="limit", **LIMIT)],
    ),
    wire.ConcurrencyLimitV2Update: (
        lambda: actions.ConcurrencyLimitV2Update,
        [wire.ConcurrencyLimitV2Update(**LIMIT)],
    ),
    wire.BlockTypeCreate: (
        lambda: actions.BlockTypeCreate,
        [
            wire.BlockTypeCreate(
                name="ECS Task",
                slug="ecs-task",
                logo_url="https://example.com/logo.png",
                documentation_url="https://example.com/docs",
                description="d",
                code_example="c",
            )
        ],
    ),
    wire.BlockSchemaCreate: (
        lambda: actions.BlockSchemaCreate,
        [
            wire.BlockSchemaCreate(
                fields={"title": "T", "type": "object", "properties": {}},
                block_type_id=BLOCK_TYPE_ID,
                capabilities=["run"],
                version="1.0.0",
            )
        ],
    ),
    wire.BlockDocumentCreate: (
        lambda: actions.BlockDocumentCreate,
        [
            wire.BlockDocumentCreate(
                name="creds",
                data={"key": "value"},
                block_type_id=BLOCK_TYPE_ID,
                block_schema_id=BLOCK_SCHEMA_ID,
            )
        ],
    ),
    wire.BlockDocumentUpdate: (
        lambda: actions.BlockDocumentUpdate,
        [wire.BlockDocumentUpdate(data={"key": "value"}, merge_existing_data=False)],
    ),
    wire.DeploymentFlowRunCreate: (
        lambda: actions.DeploymentFlowRunCreate,
        [wire.DeploymentFlowRunCreate(parameters={"n": 1})],
    ),
    wire.DeploymentsFilter: (
        lambda: _route("deployments", "read_deployments"),
        [
            wire.DeploymentsFilter(
                flows=wire.FlowFilter(id=ANY, name=wire.AnyOf(any_=["hello"])),
                deployments=wire.DeploymentFilter(
                    id=wire.NotAnyOf(not_any_=[FLOW_ID]),
                    name=wire.AnyOf(any_=["daily"]),
                    tags=wire.AllOf(all_=["t"]),
                ),
                limit=200,
                offset=0,
            )
        ],
    ),
    wire.FlowsFilter: (
        lambda: _route("flows", "read_flows"),
        [wire.FlowsFilter(flows=wire.FlowFilter(id=ANY, name=ANY), limit=200, offset=0)],
    ),
    wire.WorkPoolsFilter: (
        lambda: _route("workers", "read_work_pools"),
        [
            wire.WorkPoolsFilter(
                work_pools=wire.WorkPoolFilter(id=ANY, name=ANY), limit=200, offset=0
            )
        ],
    ),
    wire.WorkQueuesFilter: (
        lambda: _route("workers", "read_work_queues"),
        [wire.WorkQueuesFilter(limit=200, offset=0)],
    ),
    wire.VariablesFilter: (
        lambda: _route("variables", "read_variables"),
        [wire.VariablesFilter(variables=wire.VariableFilter(name=ANY), limit=200, offset=0)],
    ),
    wire.ConcurrencyLimitsFilter: (
        lambda: _route("concurrency_limits_v2", "read_all_concurrency_limits_v2"),
        [wire.ConcurrencyLimitsFilter(limit=200, offset=0)],
    ),
    wire.LogsFilter: (
        lambda: _route("logs", "read_logs"),
        [
            wire.LogsFilter(
                logs=wire.LogFilter(flow_run_id=ANY), sort="TIMESTAMP_ASC", limit=200, offset=0
            )
        ],
    ),
    wire.AutomationCreate: (
        lambda: _automations().AutomationCreate,
        [wire.AutomationCreate(**AUTOMATION, owner_resource=f"prefect.deployment.{FLOW_ID}")],
    ),
    wire.AutomationUpdate: (
        lambda: _automations().AutomationUpdate,
        [wire.AutomationUpdate(**AUTOMATION)],
    ),
    wire.AutomationsFilter: (
        lambda: _route("automations", "read_automations"),
        [
            wire.AutomationsFilter(
                automations=wire.AutomationFilter(name=ANY, tags=wire.AllOf(all_=["a"])),
                limit=200,
                offset=0,
            )
        ],
    ),
    wire.BlockDocumentsFilter: (
        lambda: _route("block_documents", "read_block_documents"),
        [
            wire.BlockDocumentsFilter(
                block_documents=wire.BlockDocumentFilter(name=ANY), limit=200, offset=0
            )
        ],
    ),
    wire.BlockSchemasFilter: (
        lambda: _route("block_schemas", "read_block_schemas"),
        [
            wire.BlockSchemasFilter(
                block_schemas=wire.BlockSchemaFilter(block_type_id=ANY), limit=1, offset=0
            )
        ],
    ),
}

# response model → Prefect's schema of what the endpoints flowfleet reads answer
RESPONSES: dict[type[wire.Response], Callable[[], type[BaseModel]]] = {
    wire.Flow: lambda: core.Flow,
    wire.DeploymentResponse: lambda: responses.DeploymentResponse,
    # core.WorkPool up to 3.4, responses.WorkPoolResponse later: what the route answers
    wire.WorkPoolResponse: lambda: _answer("workers", "read_work_pools"),
    wire.WorkQueueResponse: lambda: responses.WorkQueueResponse,
    wire.Variable: lambda: core.Variable,
    wire.GlobalConcurrencyLimit: lambda: responses.GlobalConcurrencyLimitResponse,
    wire.BlockType: lambda: core.BlockType,
    wire.BlockSchema: lambda: core.BlockSchema,
    wire.BlockDocument: lambda: core.BlockDocument,
    wire.FlowRunResponse: lambda: responses.FlowRunResponse,
    wire.Log: lambda: core.Log,
    wire.Automation: lambda: _automations().Automation,
}


def _automations() -> Any:
    from prefect.server.events.schemas import automations

    return automations


# ---------------------------------------------------------------------------------------
# Every model has a contract


def _wire_models(kind: type[BaseModel]) -> set[type[BaseModel]]:
    return {
        m
        for m in vars(wire).values()
        if isinstance(m, type) and issubclass(m, kind) and m is not kind
    }


def _nested(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for field in model.model_fields.values():
        for arg in _flatten(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield arg
                yield from _nested(arg)


def _flatten(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _flatten(arg)


@pytest.mark.parametrize(
    ("kind", "contracts"),
    [(wire.Request, REQUESTS), (wire.Response, RESPONSES)],
    ids=["requests", "responses"],
)
def test_every_wire_model_is_checked(kind: type[BaseModel], contracts: dict[Any, Any]) -> None:
    """A model is checked itself or as a part of a checked one; a new one needs an entry."""
    checked = set(contracts) | {n for m in contracts for n in _nested(m)}
    # What a Prefect 2 server answers: checked against the Prefect 2 environment's own
    # schemas by `make test-compat` (tests/integration/test_prefect2.py).
    checked |= {n for m in wire.PREFECT_2_RESPONSES for n in (m, *_nested(m))}
    unchecked = {m.__name__ for m in _wire_models(kind) - checked}
    abstract = {"Page"}  # the paging fields, checked in every filter body
    assert unchecked - abstract == set(), "add these models to the contract tables"


# ---------------------------------------------------------------------------------------
# Field names and JSON types, by JSON schema


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _variants(node: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(node, defs)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [v for option in node[key] for v in _variants(option, defs)]
    if len(node.get("allOf", [])) == 1:
        return _variants(node["allOf"][0], defs)
    return [node]


def _kind_of(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    return names.get(type(value), "object" if isinstance(value, dict) else "array")


def _kinds(node: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    """The JSON types a schema node allows ("integer" included in "number")."""
    found: set[str] = set()
    for v in _variants(node, defs):
        if "const" in v:
            found.add(_kind_of(v["const"]))
        elif "enum" in v:
            found |= {_kind_of(x) for x in v["enum"]}
        elif "type" in v:
            found |= set(v["type"] if isinstance(v["type"], list) else [v["type"]])
        else:
            found |= ALL_KINDS
        if v.get("format") == "duration":  # a timedelta also takes seconds
            found |= {"number", "string"}
    if "number" in found:
        found.add("integer")
    return found


class _Schemas:
    def __init__(self, ours: type[BaseModel], theirs: type[BaseModel], sending: bool) -> None:
        self.sending = sending
        self.ours = ours.model_json_schema(mode="serialization" if sending else "validation")
        self.theirs = theirs.model_json_schema(mode="validation" if sending else "serialization")
        self.problems: list[str] = []
        self.absent: list[tuple[str, str]] = []  # (model, field) missing as FIELD_SINCE says

    def check(self, ours: dict[str, Any], theirs: dict[str, Any], path: str) -> None:
        our_kinds = _kinds(ours, self.ours.get("$defs", {}))
        their_kinds = _kinds(theirs, self.theirs.get("$defs", {}))
        extra = our_kinds - their_kinds if self.sending else their_kinds - our_kinds
        if extra:
            how = "sends" if self.sending else "may receive"
            self.problems.append(
                f"{path}: flowfleet {how} {sorted(extra)}, Prefect's schema allows "
                f"{sorted(their_kinds)}"
            )
        self._objects(ours, theirs, path)
        self._arrays(ours, theirs, path)

    def _objects(self, ours: dict[str, Any], theirs: dict[str, Any], path: str) -> None:
        their_objects = [
            v for v in _variants(theirs, self.theirs.get("$defs", {})) if "properties" in v
        ]
        for mine in _variants(ours, self.ours.get("$defs", {})):
            if "properties" not in mine:
                continue
            names = set(mine["properties"])
            if not their_objects:
                self.problems.append(f"{path}: Prefect's schema has no fields here")
                continue
            if self.sending:  # the one variant of Prefect's that takes all of it
                best = max(their_objects, key=lambda v: len(names & set(v["properties"])))
                candidates = {n: [best] for n in names}
            else:  # any variant of Prefect's may be the one answered
                candidates = {n: [v for v in their_objects if n in v["properties"]] for n in names}
            for name in sorted(names):
                where = f"{path}.{name}" if path else name
                if not candidates[name] or name not in candidates[name][0]["properties"]:
                    self._missing(mine.get("title", path), name, where)
                    continue
                options = [v["properties"][name] for v in candidates[name]]
                self.check(mine["properties"][name], {"anyOf": options}, where)

    def _arrays(self, ours: dict[str, Any], theirs: dict[str, Any], path: str) -> None:
        their_items = [
            v["items"] for v in _variants(theirs, self.theirs.get("$defs", {})) if "items" in v
        ]
        for mine in _variants(ours, self.ours.get("$defs", {})):
            if "items" in mine and their_items and mine["items"]:
                self.check(mine["items"], {"anyOf": their_items}, f"{path}[]")

    def _missing(self, model: str, name: str, where: str) -> None:
        since = wire.FIELD_SINCE.get((model, name))
        if since is not None and Version(since) > INSTALLED:
            self.absent.append((model, name))
        else:
            self.problems.append(f"{where}: Prefect {INSTALLED}'s schema has no field '{name}'")


def _field_problems(ours: type[BaseModel], theirs: type[BaseModel], sending: bool) -> list[str]:
    schemas = _Schemas(ours, theirs, sending)
    schemas.check(schemas.ours, schemas.theirs, ours.__name__)
    return schemas.problems


@pytest.mark.parametrize("model", REQUESTS, ids=lambda m: m.__name__)
def test_request_fields_exist_in_prefect(model: type[wire.Request]) -> None:
    """Every field the model can send is a field of Prefect's schema, of a type it takes."""
    assert _field_problems(model, REQUESTS[model][0](), sending=True) == []


@pytest.mark.parametrize("model", RESPONSES, ids=lambda m: m.__name__)
def test_response_fields_exist_in_prefect(model: type[wire.Response]) -> None:
    """Every field the model reads is a field of Prefect's answer, of types it accepts."""
    assert _field_problems(model, RESPONSES[model](), sending=False) == []


# ---------------------------------------------------------------------------------------
# Maximal examples through Prefect's own models


def _unset(model: BaseModel, path: str) -> Iterator[str]:
    for name in type(model).model_fields:
        if name not in model.model_fields_set:
            yield f"{path}.{name}"
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                yield from _unset(item, f"{path}.{name}")


def _key_paths(data: Any, path: str = "") -> set[str]:
    if isinstance(data, dict):
        found = set()
        for key, value in data.items():
            found |= {f"{path}.{key}"} | _key_paths(value, f"{path}.{key}")
        return found
    if isinstance(data, list):
        return {p for item in data for p in _key_paths(item, f"{path}[]")}
    return set()


OPAQUE = ("parameters", "job_variables", "data", "value", "base_job_template", "pull_steps")


def _structural(paths: set[str]) -> set[str]:
    """Key paths outside free-form JSON (parameters, job variables, block data ...)."""
    return {p for p in paths if not any(f".{o}." in p or f".{o}[]" in p for o in OPAQUE)}


@pytest.mark.parametrize("model", REQUESTS, ids=lambda m: m.__name__)
def test_maximal_request_validates_with_prefect(model: type[wire.Request]) -> None:
    """Every field set, sent as JSON, is taken by Prefect's model and none is dropped."""
    target, examples = REQUESTS[model]
    theirs = target()
    for example in examples:
        assert type(example) is model
        assert list(_unset(example, model.__name__)) == [], "set every field in the example"
        sent = example.body()
        taken = theirs.model_validate_json(json.dumps(sent))
        kept = taken.model_dump(mode="json", exclude_unset=True)
        dropped = _structural(_key_paths(sent)) - _key_paths(kept)
        assert {p for p in dropped if p.rsplit(".", 1)[-1] not in _later_fields()} == set()


def _later_fields() -> set[str]:
    """Fields that came after the installed Prefect (its models drop them: the version gate
    keeps flowfleet from sending them to such a server; see FIELD_SINCE)."""
    return {f for (_, f), since in wire.FIELD_SINCE.items() if Version(since) > INSTALLED}


# ---------------------------------------------------------------------------------------
# Fields that differ between supported versions


def test_field_since_matches_installed_prefect() -> None:
    """FIELD_SINCE lists exactly the wire fields the installed Prefect lacks because they
    came later (a field missing for another reason fails the field tests above). Between
    3.4.25 and 3.9.1 that is a deployment's `concurrency_options.grace_period_seconds`
    (3.6.6); otherwise the schemas differ only in fields flowfleet neither sends nor reads
    (see flowfleet.server.wire.since)."""
    contracts = {**{m: t for m, (t, _) in REQUESTS.items()}, **RESPONSES}
    absent = set()
    for model, target in contracts.items():
        schemas = _Schemas(model, target(), issubclass(model, wire.Request))
        schemas.check(schemas.ours, schemas.theirs, model.__name__)
        absent |= set(schemas.absent)
    later = {entry for entry, since in wire.FIELD_SINCE.items() if Version(since) > INSTALLED}
    assert absent == later
    for model_name, field in wire.FIELD_SINCE:
        assert field in getattr(wire, model_name).model_fields, (model_name, field)


# ---------------------------------------------------------------------------------------
# What older servers answer


def test_a_3_4_deployment_reads_its_limit_from_the_global_concurrency_limit() -> None:
    """Prefect 3.4 answers `concurrency_limit: null` with the limit elsewhere."""
    answer = {
        "id": "d1",
        "flow_id": FLOW_ID,
        "name": "daily",
        "concurrency_limit": None,
        "global_concurrency_limit": {"id": "g", "name": "deployment:d1", "limit": 3},
        "some_newer_field": {"ignored": True},
    }
    live = parse_deployment(wire.DeploymentResponse.model_validate(answer), "hello")
    assert live.deployment.concurrency_limit == 3
