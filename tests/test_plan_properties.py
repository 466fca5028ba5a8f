"""Properties of the planner, and of plan → apply → plan against an in-memory Prefect.

`FakePrefectServer` stores deployments the way the Prefect 3.8 server does (read from its
source, prefect/server/api/deployments.py and models/deployments.py, and measured against
a real 3.8.8 server). The real apply code (`flowfleet.apply.deployments.apply_plan`) talks
to it through flowfleet's real client (`flowfleet.server.api.connect`): only the HTTP
transport is replaced (`fake_transport`), so status mapping and retries are flowfleet's
own. What it normalises:

- POST /deployments/ fills what is not sent as the server does: `pull_steps` [] and
  `parameter_openapi_schema` {} (the ORM defaults), `paused` false, `tags` [], ...; it is
  an upsert on (flow id, name); it drops each schedule's `max_scheduled_runs` (measured).
  A `parameter_openapi_schema` of {} that is sent (create or PATCH) is stored as
  {"type": "object", "properties": {}} (prefect._internal.schema.ParameterSchema).
- Work queues: a pool without a queue lands in the pool's "default" queue; a queue
  without a pool lands in "default-agent-pool". PATCH: pool and queue → that queue;
  pool only → the pool's "default" queue; pool null → no queue; queue only → that queue
  in "default-agent-pool"; `work_queue_name: null` alone changes nothing.
- Schedules: interval → float seconds; no anchor → the server's "now"; an anchor with an
  offset → the same instant in UTC ("...Z"); a naive anchor → read as UTC (measured);
  cron `day_or` defaults to true; an rrule without DTSTART gets `DTSTART:20200101T000000`
  prepended (MINUTELY/SECONDLY rules without COUNT: the latest phase-equivalent start
  before "now", in the schedule's time zone). PATCH of a schedule drops null fields
  (`max_scheduled_runs: null` does not clear it) and resets `parameters` when not sent.
- `concurrency_limit` is kept as a global concurrency limit `deployment:<id>` and read
  back from `global_concurrency_limit.limit` (`concurrency_limit` reads null).
- PATCH of a deployment whose `enforce_parameter_schema` holds and that has no schema
  answers 409; unknown fields answer 422 (the server's models forbid extras).

Not modelled: job variables against the pool's template, parameters against the schema
(the generated schemas accept anything), parameter hydration, scheduled runs.

Checked against a real Prefect 3.8.8 server (SQLite, --no-services): 80 random scenarios
of `scenarios()` seeded, planned, applied and planned again on both gave the same stored
deployments, the same apply errors (none) and the same changes left in the second plan.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowfleet.apply.deployments import ApplyResult, apply_plan
from flowfleet.model.resources import ConcurrencyOptions, Deployment, LiveState, Schedule
from flowfleet.model.target import Target
from flowfleet.plan.deployments import (
    COMPARED_FIELDS,
    Action,
    Change,
    Plan,
    build_plan,
    is_rename,
    ownership_marker,
)
from flowfleet.plan.normalize import EMPTY_SCHEMA
from flowfleet.server import payloads
from flowfleet.server.api import connect
from flowfleet.server.read import parse_deployment
from flowfleet.server.wire import DeploymentResponse

PROJECT, ENVIRONMENT = "analytics", "dev"
MARKER = ownership_marker(PROJECT, ENVIRONMENT)
FOREIGN_MARKERS = ("flowfleet:marketing/dev", "flowfleet:analytics/prod")
FLOWS = ("etl", "report", "sync")
NAMES = ("daily", "hourly", "eu", "us")
POOLS = ("pool-a", "pool-b")
SLUGS = ("schedule-1", "schedule-2", "schedule-3")
TIMEZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
DEFAULT_AGENT_POOL = "default-agent-pool"
UTC = timezone.utc
SERVER_NOW = datetime(2026, 11, 23, 20, 7, 46, 452378, tzinfo=UTC)
RRULE_ANCHOR = datetime(2020, 1, 1)
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------
# The fake server

CREATE_FIELDS = frozenset(
    {
        "name",
        "flow_id",
        "paused",
        "schedules",
        "concurrency_limit",
        "concurrency_options",
        "global_concurrency_limit_id",
        "enforce_parameter_schema",
        "parameter_openapi_schema",
        "parameters",
        "tags",
        "labels",
        "pull_steps",
        "work_queue_name",
        "work_pool_name",
        "storage_document_id",
        "infrastructure_document_id",
        "description",
        "path",
        "version",
        "entrypoint",
        "job_variables",
        "version_info",
    }
)
UPDATE_FIELDS = CREATE_FIELDS - {"name", "flow_id", "labels"}
SCHEDULE_FIELDS = frozenset(
    {"active", "schedule", "max_scheduled_runs", "parameters", "slug", "replaces"}
)
SPEC_FIELDS = {
    "cron": frozenset({"cron", "timezone", "day_or"}),
    "interval": frozenset({"interval", "anchor_date", "timezone"}),
    "rrule": frozenset({"rrule", "timezone"}),
}
# Stored as sent, defaults when a create leaves them out.
PLAIN_DEFAULTS: dict[str, Any] = {
    "entrypoint": None,
    "parameters": {},
    "tags": [],
    "version": None,
    "description": None,
    "job_variables": {},
    "pull_steps": [],
    "paused": False,
    "enforce_parameter_schema": True,
    "parameter_openapi_schema": {},
    "path": None,
    "concurrency_options": None,  # stored as sent (JSON), kept by an upsert that omits it
}


@dataclass(frozen=True)
class Write:
    """A write the server answered with success, and the deployment it touched (None for
    a flow)."""

    method: str
    path: str
    deployment_id: str | None


class ServerError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class FakePrefectServer:
    """Deployments, flows and work pools of one Prefect server, in memory."""

    def __init__(self, pools: Iterable[str]) -> None:
        self.pools = {*pools, DEFAULT_AGENT_POOL}
        self.flows: dict[str, str] = {}  # name → id
        self.rows: dict[str, dict[str, Any]] = {}  # deployment id → stored row
        self.writes: list[Write] = []  # every write answered with success
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)

    # -- the HTTP surface flowfleet uses ------------------------------------------------

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        saved = copy.deepcopy((self.rows, self.flows))
        try:
            status, answer = self._route(method, parts, body)
        except ServerError as exc:  # one transaction: a refused write changes nothing
            self.rows, self.flows = saved
            return exc.status, {"detail": str(exc)}
        match parts:
            case ["deployments"]:  # a create, or an upsert of an existing deployment
                touched = answer["id"]
            case ["deployments", deployment_id, *_]:
                touched = deployment_id
            case _:
                touched = None
        self.writes.append(Write(method, path, touched))
        return status, answer

    def _route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        match (method, parts):
            case ("POST", ["flows"]):
                return 201, {"id": self.ensure_flow(body["name"]), "name": body["name"]}
            case ("POST", ["deployments"]):
                return self._create(body)
            case ("PATCH", ["deployments", deployment_id]):
                self._update(self._row(deployment_id), body)
                return 204, None
            case ("DELETE", ["deployments", deployment_id]):
                self._row(deployment_id)
                del self.rows[deployment_id]
                return 204, None
            case ("POST", ["deployments", deployment_id, "schedules"]):
                row = self._row(deployment_id)
                created = [self._new_schedule(s, keep_limit=True) for s in body]
                self._check_slugs([*row["schedules"], *created])
                row["schedules"].extend(created)
                return 201, copy.deepcopy(created)
            case ("PATCH", ["deployments", deployment_id, "schedules", schedule_id]):
                row = self._row(deployment_id)
                self._patch_schedule(row, self._schedule(row, schedule_id), body)
                return 204, None
            case ("DELETE", ["deployments", deployment_id, "schedules", schedule_id]):
                row = self._row(deployment_id)
                row["schedules"].remove(self._schedule(row, schedule_id))
                return 204, None
        raise ServerError(404, f"no route for {method} /{'/'.join(parts)}")

    # -- reading ------------------------------------------------------------------------

    def response(self, row: dict[str, Any]) -> dict[str, Any]:
        """A deployment as GET /deployments/{id} returns it."""
        pool, queue = row["work_queue"] or (None, row["work_queue_name"])
        limit = row["concurrency_limit"]
        data = {
            "id": row["id"],
            "name": row["name"],
            "flow_id": row["flow_id"],
            "updated": row["updated"],
            **{name: row[name] for name in PLAIN_DEFAULTS},
            "work_pool_name": pool,
            "work_queue_name": queue,
            "concurrency_limit": None,
            "global_concurrency_limit": None
            if limit is None
            else {"name": f"deployment:{row['id']}", "limit": limit, "active": True},
            "schedules": [{**s, "deployment_id": row["id"]} for s in row["schedules"]],
        }
        return copy.deepcopy(data)

    def live_state(self, pools: Iterable[str] | None = None) -> LiveState:
        """Everything on the server, in flowfleet's terms (via flowfleet.server.read)."""
        names = {flow_id: name for name, flow_id in self.flows.items()}
        return LiveState(
            deployments=tuple(
                parse_deployment(
                    DeploymentResponse.model_validate(self.response(r)), names[r["flow_id"]]
                )
                for r in self.rows.values()
            ),
            flows=dict(self.flows),
            work_pools=frozenset(self.pools - {DEFAULT_AGENT_POOL} if pools is None else pools),
        )

    def key_of(self, row: dict[str, Any]) -> tuple[str, str]:
        names = {flow_id: name for name, flow_id in self.flows.items()}
        return names[row["flow_id"]], row["name"]

    def by_key(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {self.key_of(r): self.response(r) for r in self.rows.values()}

    def ensure_flow(self, name: str) -> str:
        return self.flows.setdefault(name, self._new_id())

    # -- deployments --------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        _check_fields(body, CREATE_FIELDS, "DeploymentCreate")
        if "name" not in body or body.get("flow_id") not in self.flows.values():
            raise ServerError(422, "name and the id of an existing flow are required")
        pool, queue = body.get("work_pool_name"), body.get("work_queue_name")
        self._check_pool(pool)
        limit = _limit(body.get("concurrency_limit"))
        # Measured on 3.8.8: the schedules of POST /deployments/ lose max_scheduled_runs.
        schedules = [self._new_schedule(s, keep_limit=False) for s in body.get("schedules", [])]
        self._check_slugs(schedules)
        existing = [
            r
            for r in self.rows.values()
            if (r["flow_id"], r["name"]) == (body["flow_id"], body["name"])
        ]
        body = _coerce_schema(body)
        if existing:  # an upsert: what was sent replaces, the rest stays
            row, status = existing[0], 200
            row.update({k: copy.deepcopy(v) for k, v in body.items() if k in PLAIN_DEFAULTS})
        else:
            deployment_id = self._new_id()
            row, status = (
                {"id": deployment_id, "name": body["name"], "flow_id": body["flow_id"]},
                201,
            )
            for name, default in PLAIN_DEFAULTS.items():
                row[name] = copy.deepcopy(body.get(name, default))
            self.rows[deployment_id] = row
        row["work_queue_name"] = queue
        row["work_queue"] = _route_queue(pool, queue)
        row["concurrency_limit"] = limit
        row["schedules"] = schedules
        row["updated"] = self._tick()
        return status, self.response(row)

    def _update(self, row: dict[str, Any], body: dict[str, Any]) -> None:
        _check_fields(body, UPDATE_FIELDS, "DeploymentUpdate")
        body = _coerce_schema(body)
        enforce = body.get("enforce_parameter_schema")
        if enforce if enforce is not None else row["enforce_parameter_schema"]:
            schema = body.get("parameter_openapi_schema") or row["parameter_openapi_schema"]
            if not isinstance(schema, dict):
                raise ServerError(
                    409,
                    "Error updating deployment: Cannot update parameters because parameter "
                    "schema enforcement is enabled and the deployment does not have a valid "
                    "parameter schema.",
                )
        pool, queue = body.get("work_pool_name"), body.get("work_queue_name")
        self._check_pool(pool)
        limit = _limit(body["concurrency_limit"]) if "concurrency_limit" in body else None
        if "schedules" in body:
            self._update_schedules(row, body["schedules"])
        for name, value in body.items():
            if name in PLAIN_DEFAULTS and not (name == "job_variables" and value is None):
                row[name] = copy.deepcopy(value)
        if "work_queue_name" in body:
            row["work_queue_name"] = queue
        if pool:
            row["work_queue"] = (pool, queue or "default")
        elif "work_pool_name" in body:
            row["work_queue"] = None
        elif queue:
            row["work_queue"] = (DEFAULT_AGENT_POOL, queue)
        if "concurrency_limit" in body:
            row["concurrency_limit"] = limit
        row["updated"] = self._tick()

    def _update_schedules(self, row: dict[str, Any], schedules: list[dict[str, Any]]) -> None:
        """`schedules` in PATCH /deployments/{id}: by slug when all have one, else replaced."""
        provided_slugs = all(s.get("slug") for s in schedules)
        existing_slugs = bool(row["schedules"]) and all(s["slug"] for s in row["schedules"])
        if provided_slugs and existing_slugs:
            by_slug = {s["slug"]: s for s in row["schedules"]}
            for s in schedules:
                if s["slug"] in by_slug:
                    self._patch_schedule(row, by_slug[s["slug"]], s)
                else:
                    row["schedules"].append(self._new_schedule(s, keep_limit=True))
        elif existing_slugs:
            raise ServerError(422, "Please provide a slug for each schedule in your request")
        else:
            row["schedules"] = [self._new_schedule(s, keep_limit=False) for s in schedules]
        self._check_slugs(row["schedules"])

    def _check_pool(self, pool: str | None) -> None:
        if pool and pool not in self.pools:
            raise ServerError(404, f'Work pool "{pool}" not found.')

    # -- schedules ----------------------------------------------------------------------

    def _new_schedule(self, body: dict[str, Any], *, keep_limit: bool) -> dict[str, Any]:
        _check_fields(body, SCHEDULE_FIELDS, "DeploymentScheduleCreate")
        if "schedule" not in body:
            raise ServerError(422, "schedule: Field required")
        limit = _limit(body.get("max_scheduled_runs"))
        return {
            "id": self._new_id(),
            "active": bool(body.get("active", True)),
            "schedule": _normalise_spec(body["schedule"]),
            "max_scheduled_runs": limit if keep_limit else None,
            "parameters": copy.deepcopy(body.get("parameters") or {}),
            "slug": body.get("slug"),
        }

    def _patch_schedule(
        self, row: dict[str, Any], schedule: dict[str, Any], body: dict[str, Any]
    ) -> None:
        _check_fields(body, SCHEDULE_FIELDS, "DeploymentScheduleUpdate")
        # DeploymentScheduleUpdate.model_dump(exclude_none=True): parameters defaults to {}.
        values = {"parameters": {}, **body}
        values = {k: v for k, v in values.items() if v is not None and k != "replaces"}
        if "schedule" in values:
            values["schedule"] = _normalise_spec(values["schedule"])
        if "max_scheduled_runs" in values:
            _limit(values["max_scheduled_runs"])
        schedule.update(copy.deepcopy(values))
        self._check_slugs(row["schedules"])

    def _schedule(self, row: dict[str, Any], schedule_id: str) -> dict[str, Any]:
        schedules: list[dict[str, Any]] = row["schedules"]
        for schedule in schedules:
            if schedule["id"] == schedule_id:
                return schedule
        raise ServerError(404, "Schedule not found.")

    @staticmethod
    def _check_slugs(schedules: Sequence[dict[str, Any]]) -> None:
        slugs = [s["slug"] for s in schedules if s["slug"] is not None]
        if len(slugs) != len(set(slugs)):
            raise ServerError(409, f"duplicate schedule slug among {slugs}")

    # -- helpers --------------------------------------------------------------------------

    def _row(self, deployment_id: str) -> dict[str, Any]:
        if deployment_id not in self.rows:
            raise ServerError(404, "Deployment not found.")
        return self.rows[deployment_id]

    def _new_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids)))

    def _tick(self) -> str:
        return _utc_text(SERVER_NOW + timedelta(seconds=next(self._clock)))


def _check_fields(body: Any, allowed: frozenset[str], model: str) -> None:
    if not isinstance(body, dict):
        raise ServerError(422, f"{model}: expected an object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise ServerError(422, f"{model}: extra fields not permitted: {extra}")


def _coerce_schema(body: dict[str, Any]) -> dict[str, Any]:
    """prefect._internal.schema.ParameterSchema: a given {} becomes an empty object schema."""
    if body.get("parameter_openapi_schema") == {}:
        return {**body, "parameter_openapi_schema": {"type": "object", "properties": {}}}
    return body


def _limit(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    raise ServerError(422, f"not a positive integer: {value!r}")


def _route_queue(pool: str | None, queue: str | None) -> tuple[str, str] | None:
    """The (pool, queue) a created deployment's runs go to."""
    if pool:
        return pool, queue or "default"
    if queue:
        return DEFAULT_AGENT_POOL, queue
    return None


def _offset(text: str) -> str:
    """An ISO date Python 3.10's fromisoformat reads ("Z" as "+00:00")."""
    return text.replace("Z", "+00:00")


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _normalise_spec(spec: Any) -> dict[str, Any]:
    """A cron, interval or rrule schedule as the server stores it."""
    if not isinstance(spec, dict):
        raise ServerError(422, "schedule: expected an object")
    kinds = [k for k in SPEC_FIELDS if k in spec]
    if len(kinds) != 1 or set(spec) - SPEC_FIELDS[kinds[0]]:
        raise ServerError(422, f"schedule: not one of the schedule types: {spec}")
    tz = spec.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ServerError(422, f'Invalid timezone: "{tz}"') from None
    if kinds == ["cron"]:
        return {"cron": spec["cron"], "timezone": tz, "day_or": spec.get("day_or", True)}
    if kinds == ["interval"]:
        seconds = spec["interval"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise ServerError(422, f"interval: not a positive duration: {seconds!r}")
        anchor = spec.get("anchor_date")
        moment = SERVER_NOW if anchor is None else datetime.fromisoformat(_offset(anchor))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # measured: a naive anchor is read as UTC
        return {
            "interval": float(seconds),
            "anchor_date": _utc_text(moment),
            "timezone": tz or "UTC",
        }
    tz = tz or "UTC"
    return {"rrule": _inject_dtstart(spec["rrule"], tz), "timezone": tz}


def _inject_dtstart(rule: str, tz: str) -> str:
    """prefect._internal.schemas.validators.normalize_rrule_string, at SERVER_NOW."""
    if "DTSTART" in rule.upper():
        return rule
    anchor = RRULE_ANCHOR
    lines = rule.splitlines()
    parts = dict(p.split("=", 1) for p in lines[0].removeprefix("RRULE:").split(";"))
    if len(lines) == 1 and parts.get("FREQ") in ("MINUTELY", "SECONDLY") and "COUNT" not in parts:
        period = (60 if parts["FREQ"] == "MINUTELY" else 1) * int(parts.get("INTERVAL", "1"))
        now = SERVER_NOW.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        anchor += timedelta(seconds=(now - anchor).total_seconds() // period * period)
    return f"DTSTART:{anchor:%Y%m%dT%H%M%S}\n{rule}"


API_URL = "http://fake-prefect/api"
API_PATH = httpx.URL(API_URL).path


def fake_transport(server: FakePrefectServer) -> httpx.MockTransport:
    """The fake server as the HTTP transport under flowfleet's real client: each request
    reaches `server.handle` as (method, path below the API root, JSON body), and its
    answer goes back as an HTTP response for `Api` to map (errors, retries) as it would a
    real server's."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(API_PATH)
        body = json.loads(request.content) if request.content else None
        status, answer = server.handle(request.method, path, body)
        return httpx.Response(status, json=answer)

    return httpx.MockTransport(handle)


def apply(
    server: FakePrefectServer, plan: Plan, transport: httpx.MockTransport | None = None
) -> ApplyResult:
    async def run() -> ApplyResult:
        target = Target(ENVIRONMENT, API_URL)
        async with connect(target, transport=transport or fake_transport(server)) as api:
            return await apply_plan(api, plan)

    return asyncio.run(run())


def plan_for(server: FakePrefectServer, desired: Sequence[Deployment], **flags: bool) -> Plan:
    return build_plan(PROJECT, ENVIRONMENT, desired, server.live_state(), **flags)


# ---------------------------------------------------------------------------------------
# Seeding the server with what was there before (earlier applies, the UI, other projects)


@dataclass(frozen=True)
class Seed:
    """A deployment already on the server: created from `deployment` (its tags are its
    owner's), with the schedules whose slugs are in `unslugged` made in the UI (no slug),
    and each schedule's max_scheduled_runs set afterwards (the create drops it)."""

    deployment: Deployment
    unslugged: frozenset[str] = frozenset()


def seed_server(server: FakePrefectServer, seeds: Iterable[Seed]) -> None:
    for seed in seeds:
        d = seed.deployment
        body = payloads.create_deployment(d, server.ensure_flow(d.flow_name)).body()
        body["schedules"] = [payloads.schedule(s).body() for s in d.schedules]  # one upsert
        for schedule in body["schedules"]:
            if schedule["slug"] in seed.unslugged:
                schedule["slug"] = None
        status, created = server.handle("POST", "/deployments/", body)
        assert status == 201, created
        stored = server.rows[created["id"]]["schedules"]
        for schedule, row in zip(d.schedules, stored, strict=True):
            if schedule.max_scheduled_runs is not None:
                base = f"/deployments/{created['id']}/schedules/{row['id']}"
                patch = {**payloads.schedule_update(schedule).body(), "slug": row["slug"]}
                assert server.handle("PATCH", base, patch)[0] == 204
    server.writes.clear()


# ---------------------------------------------------------------------------------------
# Strategies

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.text(alphabet="abz -", max_size=4)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=4,
)
PARAMETERS = st.dictionaries(st.sampled_from(["number", "name", "region", "config"]), JSON_VALUES)
SCHEMAS: tuple[dict[str, Any] | None, ...] = (
    None,
    {},
    {"type": "object", "properties": {}},
    {"type": "object", "properties": {"number": {"title": "number", "position": 0}}},
)
OPTIONS = st.builds(
    ConcurrencyOptions,
    collision_strategy=st.sampled_from(["ENQUEUE", "CANCEL_NEW"]),
    grace_period_seconds=st.none() | st.sampled_from([60, 600]),
)
PULL_STEPS = (
    None,
    (),
    ({"prefect.deployments.steps.set_working_directory": {"directory": "/opt/flows"}},),
)
CRON = st.fixed_dictionaries(
    {
        "cron": st.sampled_from(["0 0 * * *", "*/15 * * * *", "0 6 * * 1-5"]),
        "day_or": st.sampled_from([None, True, False]),
    }
)
INTERVAL = st.fixed_dictionaries(
    {
        "interval": st.sampled_from([60, 600, 3600, 3600.0, 86400, 90.5]),
        "anchor_date": st.sampled_from(
            [
                None,
                "2024-01-01T00:30:00",
                "2025-03-09T02:30:00",  # does not exist in America/New_York
                "2024-07-01T12:00:00+02:00",
                "2024-01-01T00:00:00Z",
            ]
        ),
    }
)
RRULE = st.fixed_dictionaries(
    {
        "rrule": st.sampled_from(
            [
                "FREQ=DAILY",
                "RRULE:FREQ=WEEKLY;BYDAY=MO",
                "FREQ=MINUTELY;INTERVAL=15",
                "RRULE:FREQ=SECONDLY;INTERVAL=30",
                "FREQ=HOURLY;COUNT=5",
                "DTSTART:20240101T090000\nRRULE:FREQ=DAILY",
            ]
        )
    }
)


def schedule_strategy(slug: str) -> st.SearchStrategy[Schedule]:
    return st.builds(
        lambda kind, **fields: Schedule(slug=slug, **kind, **fields),
        st.one_of(CRON, INTERVAL, RRULE),
        timezone=st.sampled_from(TIMEZONES),
        active=st.booleans(),
        parameters=st.dictionaries(st.sampled_from(["number", "name"]), JSON_SCALARS, max_size=2),
        max_scheduled_runs=st.none() | st.integers(1, 10),
    )


SCHEDULES = st.lists(st.sampled_from(SLUGS), unique=True, max_size=3).flatmap(
    lambda slugs: st.tuples(*(schedule_strategy(s) for s in slugs))
)


@st.composite
def deployments(
    draw: st.DrawFn, key: tuple[str, str] | None = None, pools: Sequence[str] = POOLS
) -> Deployment:
    flow, name = key or (draw(st.sampled_from(FLOWS)), draw(st.sampled_from(NAMES)))
    tags = draw(st.lists(st.sampled_from(["team-a", "team-b", "nightly"]), max_size=3))
    pool = draw(st.sampled_from([None, *pools]))
    # validate refuses a queue without a pool, so no desired state has one
    queues = [None, "default", "q1", "q2"] if pool else [None]
    return Deployment(
        flow_name=flow,
        name=name,
        entrypoint=draw(st.sampled_from([f"flows/{flow}.py:{flow}", f"v2/{flow}.py:main"])),
        parameters=draw(PARAMETERS),
        schedules=draw(SCHEDULES),
        tags=(*tags, MARKER),
        version=draw(st.sampled_from([None, "", "1.0", "2.0"])),
        description=draw(st.sampled_from([None, "", "nightly load", "hourly sync"])),
        work_pool_name=pool,
        work_queue_name=draw(st.sampled_from(queues)),
        job_variables=draw(st.dictionaries(st.sampled_from(["image", "cpu", "env"]), JSON_VALUES)),
        pull_steps=draw(st.sampled_from(PULL_STEPS)),
        paused=draw(st.booleans()),
        concurrency_limit=draw(st.none() | st.integers(1, 5)),
        concurrency_options=draw(st.none() | OPTIONS),
        enforce_parameter_schema=draw(st.booleans()),
        parameter_openapi_schema=draw(st.sampled_from(SCHEMAS)),
    )


@dataclass(frozen=True)
class Scenario:
    desired: tuple[Deployment, ...]
    seeds: tuple[Seed, ...]


@st.composite
def seeds_of(draw: st.DrawFn, deployment: Deployment) -> Seed:
    """`deployment` as already on the server, owned by this project and environment,
    another one, or nobody."""
    owner = draw(st.sampled_from([MARKER, None, *FOREIGN_MARKERS]))
    tags = tuple(t for t in deployment.tags if t != MARKER) + ((owner,) if owner else ())
    slugs = [s.slug for s in deployment.schedules]
    unslugged = draw(st.sets(st.sampled_from(slugs))) if slugs else set()
    return Seed(deployment.model_copy(update={"tags": tags}), frozenset(unslugged))


@st.composite
def scenarios(draw: st.DrawFn, pools: Sequence[str] = POOLS) -> Scenario:
    """Desired deployments (unique keys) and what the server held before: some of them,
    as declared or with some fields drifted, and others that are not declared."""
    desired = draw(st.lists(deployments(pools=pools), max_size=5, unique_by=lambda d: d.key))
    seeds = []
    for d in desired:
        if draw(st.booleans()):
            other = draw(deployments(key=d.key, pools=pools))
            drifted = draw(st.sets(st.sampled_from(COMPARED_FIELDS)))
            seeds.append(
                draw(seeds_of(d.model_copy(update={f: getattr(other, f) for f in drifted})))
            )
    taken = {d.key for d in desired}
    for extra in draw(st.lists(deployments(pools=pools), max_size=4, unique_by=lambda d: d.key)):
        if extra.key not in taken:
            seeds.append(draw(seeds_of(extra)))
    return Scenario(tuple(desired), tuple(seeds))


# ---------------------------------------------------------------------------------------
# What the server holds for a declared deployment, independently of flowfleet.plan.normalize


def _instant(text: str, tz: str) -> datetime:
    moment = datetime.fromisoformat(_offset(text))
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)


def _declared_schedule(s: Schedule) -> dict[str, Any]:
    view: dict[str, Any] = {
        "active": s.active,
        "parameters": s.parameters,
        "max_scheduled_runs": s.max_scheduled_runs,
        "timezone": s.timezone,
    }
    if s.cron is not None:
        view.update(cron=s.cron, day_or=s.day_or is not False)
    elif s.interval is not None:
        view["interval"] = float(s.interval)
        if s.anchor_date is not None:
            view["anchor"] = _instant(s.anchor_date, s.timezone)
    else:
        view["rrule"] = s.rrule
    return view


def _stored_schedule(data: dict[str, Any], declared: Schedule) -> dict[str, Any]:
    spec = data["schedule"]
    view: dict[str, Any] = {
        "active": data["active"],
        "parameters": data["parameters"],
        "max_scheduled_runs": data["max_scheduled_runs"],
        "timezone": spec["timezone"],
    }
    if "cron" in spec:
        view.update(cron=spec["cron"], day_or=spec["day_or"])
    elif "interval" in spec:
        view["interval"] = spec["interval"]
        if declared.anchor_date is not None:
            view["anchor"] = _instant(spec["anchor_date"], "UTC")
    else:
        rule = spec["rrule"]
        if "DTSTART" not in (declared.rrule or "").upper():
            rule = re.sub(r"\ADTSTART:\d{8}T\d{6}\n", "", rule)
        view["rrule"] = rule
    return view


def _matched_slugs(
    stored: list[dict[str, Any]], declared: dict[str, Schedule]
) -> list[dict[str, Any]]:
    """A stored schedule without a slug (made in the UI or by `prefect deploy`) that is
    identical to a declared schedule not stored under its slug counts as that one."""
    free = [slug for slug in declared if slug not in {s["slug"] for s in stored}]
    result = []
    for schedule in stored:
        if schedule["slug"] is None:
            same = (
                slug
                for slug in free
                if _stored_schedule(schedule, declared[slug]) == _declared_schedule(declared[slug])
            )
            slug = next(same, None)
            if slug is not None:
                free.remove(slug)
                schedule = {**schedule, "slug": slug}
        result.append(schedule)
    return result


def _options(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """No options and ENQUEUE without a grace period are the same to the server."""
    options = {"grace_period_seconds": None, **(data or {})}
    return None if options in ({"grace_period_seconds": None}, ENQUEUE) else options


ENQUEUE = {"collision_strategy": "ENQUEUE", "grace_period_seconds": None}


def assert_stored_as_declared(d: Deployment, data: dict[str, Any]) -> None:
    limit = data["global_concurrency_limit"]
    declared_schedules = {s.slug: s for s in d.schedules}
    data = {**data, "schedules": _matched_slugs(data["schedules"], declared_schedules)}
    stored_slugs = [s["slug"] for s in data["schedules"]]
    assert sorted(stored_slugs, key=str) == sorted(declared_schedules), d.full_name
    stored = {
        "entrypoint": data["entrypoint"],
        "parameters": data["parameters"],
        "tags": sorted(set(data["tags"])),
        "version": data["version"] or None,
        "description": data["description"] or None,
        "work_pool_name": data["work_pool_name"],
        "work_queue_name": data["work_queue_name"],
        "job_variables": data["job_variables"],
        "pull_steps": data["pull_steps"] or None,
        "paused": data["paused"],
        "concurrency_limit": limit["limit"] if limit else None,
        "concurrency_options": _options(data["concurrency_options"]),
        "enforce_parameter_schema": data["enforce_parameter_schema"],
        "parameter_openapi_schema": data["parameter_openapi_schema"] or EMPTY_SCHEMA,
        "schedules": {
            s["slug"]: _stored_schedule(s, declared_schedules[s["slug"]]) for s in data["schedules"]
        },
    }
    declared = {
        "entrypoint": d.entrypoint,
        "parameters": d.parameters,
        "tags": sorted(set(d.tags)),
        "version": d.version or None,
        "description": d.description or None,
        "work_pool_name": d.work_pool_name or ("default-agent-pool" if d.work_queue_name else None),
        "work_queue_name": d.work_queue_name or ("default" if d.work_pool_name else None),
        "job_variables": d.job_variables,
        "pull_steps": list(d.pull_steps) if d.pull_steps else None,
        "paused": d.paused,
        "concurrency_limit": d.concurrency_limit,
        "concurrency_options": _options(
            d.concurrency_options.model_dump() if d.concurrency_options else None
        ),
        "enforce_parameter_schema": d.enforce_parameter_schema,
        # null, {} and the empty object schema are the same to the server
        "parameter_openapi_schema": d.parameter_openapi_schema or EMPTY_SCHEMA,
        "schedules": {slug: _declared_schedule(s) for slug, s in declared_schedules.items()},
    }
    assert stored == declared, d.full_name


def pending(plan: Plan) -> list[tuple[str, str, Any]]:
    """The changes a plan would still make (readable in a failure)."""
    return [
        (c.action.value, c.name, [(f.field, f.old, f.new) for f in c.fields])
        for c in plan.changes
        if c.action is not Action.UNCHANGED
    ]


# ---------------------------------------------------------------------------------------
# Properties


def check_apply_converges(scenario: Scenario) -> None:
    server = FakePrefectServer(POOLS)
    seed_server(server, scenario.seeds)
    before = copy.deepcopy(server.rows)
    keys_before = {server.key_of(r) for r in before.values()}
    desired = list(scenario.desired)

    plan = plan_for(server, desired, prune=True, adopt=True)
    assert plan.errors == ()
    assert not plan.of(Action.CONFLICT)
    result = apply(server, plan)
    assert [o.error for o in result.failed] == []

    again = plan_for(server, desired, prune=True, adopt=True)
    assert pending(again) == []
    assert again.orphans == ()
    stored = server.by_key()
    for d in desired:
        assert_stored_as_declared(d, stored[d.key])
    declared = {d.key for d in desired}
    untouched = 0
    for deployment_id, row in before.items():
        key = server.key_of(row)
        if key in declared:  # updated in place (adopted if it was not ours), never recreated
            assert deployment_id in server.rows
        elif MARKER in row["tags"]:  # ours and no longer declared: pruned
            assert deployment_id not in server.rows
        else:  # unmarked, another project's or environment's: not one write
            assert server.rows.get(deployment_id) == row
            untouched += 1
    assert len(server.rows) == len(declared) + untouched
    created = [c.key for c in plan.of(Action.CREATE)]
    assert sorted(created) == sorted(declared - keys_before)
    assert writes_to_unchanged(server, plan) == []


def writes_to_unchanged(server: FakePrefectServer, plan: Plan) -> list[Write]:
    """The writes that touched a deployment the plan has as unchanged: there must be none
    (every deployment write makes the server delete its future scheduled runs)."""
    unchanged = {c.live.id for c in plan.of(Action.UNCHANGED) if c.live is not None}
    return [w for w in server.writes if w.deployment_id in unchanged]


@PROPERTY_SETTINGS
@given(scenarios())
def test_apply_then_plan_is_empty(scenario: Scenario) -> None:
    """prune + adopt, applied to the fake server, then planned again: nothing left to do,
    every declared deployment stored as declared, only ours pruned, nobody else's touched."""
    check_apply_converges(scenario)


@st.composite
def renamed(draw: st.DrawFn) -> tuple[Deployment, Deployment]:
    """A deployment as on the server, and as declared next: some of its schedules get a
    new slug (`replaces`: the old one), some of those other changes too."""
    live = draw(deployments(key=("etl", "daily")))
    new_slugs = iter(("nightly", "weekly", "mornings"))
    schedules = []
    for schedule in live.schedules:
        if draw(st.booleans()):
            changed = draw(schedule_strategy(schedule.slug)) if draw(st.booleans()) else schedule
            update = {"slug": next(new_slugs), "replaces": schedule.slug}
            schedule = changed.model_copy(update=update)
        schedules.append(schedule)
    return live, live.model_copy(update={"schedules": tuple(schedules)})


@PROPERTY_SETTINGS
@given(renamed())
def test_a_renamed_schedule_keeps_its_id(pair: tuple[Deployment, Deployment]) -> None:
    """A schedule renamed in the config is renamed on the server, same id (unless the
    rename clears `max_scheduled_runs`, which no PATCH can: then it is made again); the
    next plan is empty, `replaces` still in the config."""
    live, desired = pair
    server = FakePrefectServer(POOLS)
    seed_server(server, [Seed(live)])
    [deployment_id] = server.rows
    ids = {s["slug"]: s["id"] for s in server.rows[deployment_id]["schedules"]}
    limits = {s.slug: s.max_scheduled_runs for s in live.schedules}

    plan = plan_for(server, [desired])
    assert [o.error for o in apply(server, plan).failed] == []

    renames = {f.old: f.new for c in plan.changes for f in c.fields if is_rename(f.field)}
    assert renames == {
        s.replaces: s.slug
        for s in desired.schedules
        if s.replaces and not (s.max_scheduled_runs is None and limits[s.replaces])
    }
    stored = {s["slug"]: s["id"] for s in server.rows[deployment_id]["schedules"]}
    assert {new: stored[new] for new in renames.values()} == {
        new: ids[old] for old, new in renames.items()
    }
    assert pending(plan_for(server, [desired])) == []
    assert_stored_as_declared(desired, server.response(server.rows[deployment_id]))


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(pools=(*POOLS, "pool-gone")),
    live_pools=st.sets(st.sampled_from((*POOLS, "pool-gone"))),
    prune=st.booleans(),
    adopt=st.booleans(),
    data=st.data(),
)
def test_build_plan_is_deterministic_and_complete(
    scenario: Scenario, live_pools: set[str], prune: bool, adopt: bool, data: st.DataObject
) -> None:
    server = FakePrefectServer((*POOLS, "pool-gone"))
    seed_server(server, scenario.seeds)
    live = server.live_state(live_pools)
    desired = list(scenario.desired)

    plan = build_plan(PROJECT, ENVIRONMENT, desired, live, prune=prune, adopt=adopt)

    assert build_plan(PROJECT, ENVIRONMENT, desired, live, prune=prune, adopt=adopt) == plan
    shuffled = LiveState(
        deployments=tuple(data.draw(st.permutations(live.deployments))),
        flows=dict(reversed(live.flows.items())),
        work_pools=live.work_pools,
    )
    assert build_plan(PROJECT, ENVIRONMENT, desired, shuffled, prune=prune, adopt=adopt) == plan
    # every desired key exactly once, in the declared order, before any deletion
    declared = [c for c in plan.changes if c.action is not Action.DELETE]
    assert [c.key for c in declared] == [d.key for d in desired]
    assert len({c.key for c in plan.changes}) == len(plan.changes)
    live_by_key = {d.key: d for d in live.deployments}
    for change, d in zip(declared, desired, strict=True):
        assert change.desired is d
        assert change.action is _expected_action(change, live_by_key.get(d.key) is not None, adopt)
    declared_keys = {d.key for d in desired}
    owned = sorted(
        d.key
        for d in live.deployments
        if MARKER in d.deployment.tags and d.key not in declared_keys
    )
    deleted = [c.key for c in plan.changes if c.action is Action.DELETE]
    assert deleted == (owned if prune else [])
    assert plan.orphans == (() if prune else tuple(f"{f}/{n}" for f, n in owned))
    missing = sorted({d.work_pool_name for d in desired if d.work_pool_name} - live_pools)
    assert len(plan.errors) == len(missing)
    for pool, error in zip(missing, plan.errors, strict=True):
        first = next(d for d in desired if d.work_pool_name == pool)
        assert error.startswith(f"work pool '{pool}' does not exist on the server (used by ")
        assert f"(used by {first.full_name}" in error


def _expected_action(change: Change, exists: bool, adopt: bool) -> Action:
    if not exists:
        return Action.CREATE
    assert change.live is not None
    if MARKER not in change.live.deployment.tags and not adopt:
        return Action.CONFLICT
    return Action.UPDATE if change.fields else Action.UNCHANGED


# ---------------------------------------------------------------------------------------
# The fake server against what was measured on a real Prefect 3.8.8 server


def test_fake_server_stores_what_prefect_stores() -> None:
    server = FakePrefectServer(POOLS)
    flow_id = server.ensure_flow("probe")
    schedule = {"active": True, "parameters": {}, "max_scheduled_runs": None}
    status, created = server.handle(
        "POST",
        "/deployments/",
        {
            "name": "measured",
            "flow_id": flow_id,
            "entrypoint": "x.py:f",
            "work_pool_name": "pool-a",
            "schedules": [
                {**schedule, "schedule": {"cron": "0 0 * * *"}, "slug": "a"},
                {**schedule, "schedule": {"interval": 3600, "timezone": "America/New_York"}},
                {
                    **schedule,
                    "schedule": {"interval": 60, "anchor_date": "2024-01-01T00:30:00"},
                    "slug": "c",
                    "max_scheduled_runs": 5,
                },
                {**schedule, "schedule": {"rrule": "FREQ=DAILY", "timezone": "UTC"}, "slug": "d"},
                {
                    **schedule,
                    "schedule": {
                        "rrule": "RRULE:FREQ=MINUTELY;INTERVAL=15",
                        "timezone": "Europe/Berlin",
                    },
                    "slug": "e",
                },
            ],
        },
    )
    assert status == 201
    assert {k: created[k] for k in ("work_pool_name", "work_queue_name", "tags", "paused")} == {
        "work_pool_name": "pool-a",
        "work_queue_name": "default",
        "tags": [],
        "paused": False,
    }
    assert created["pull_steps"] == []
    assert created["parameter_openapi_schema"] == {}
    assert created["global_concurrency_limit"] is None
    assert [(s["slug"], s["max_scheduled_runs"], s["schedule"]) for s in created["schedules"]] == [
        ("a", None, {"cron": "0 0 * * *", "timezone": None, "day_or": True}),
        (
            None,
            None,
            {
                "interval": 3600.0,
                "anchor_date": "2026-11-23T20:07:46.452378Z",
                "timezone": "America/New_York",
            },
        ),
        (
            "c",
            None,
            {"interval": 60.0, "anchor_date": "2024-01-01T00:30:00Z", "timezone": "UTC"},
        ),
        ("d", None, {"rrule": "DTSTART:20200101T000000\nFREQ=DAILY", "timezone": "UTC"}),
        (
            "e",
            None,
            {
                "rrule": "DTSTART:20261123T210000\nRRULE:FREQ=MINUTELY;INTERVAL=15",
                "timezone": "Europe/Berlin",
            },
        ),
    ]
    path = f"/deployments/{created['id']}"

    def route() -> tuple[str | None, str | None]:
        data = server.by_key()[("probe", "measured")]
        return data["work_pool_name"], data["work_queue_name"]

    assert server.handle("PATCH", path, {"work_queue_name": "q2"})[0] == 204
    assert route() == (DEFAULT_AGENT_POOL, "q2")
    assert server.handle("PATCH", path, {"work_pool_name": "pool-a"})[0] == 204
    assert route() == ("pool-a", "default")
    server.handle("PATCH", path, {"work_pool_name": "pool-b", "work_queue_name": "q1"})
    assert route() == ("pool-b", "q1")
    assert server.handle("PATCH", path, {"work_queue_name": None})[0] == 204
    assert route() == ("pool-b", "q1")
    a = created["schedules"][0]
    body = {"schedule": {"cron": "0 1 * * *", "timezone": "UTC"}, "slug": "a"}
    server.handle("PATCH", f"{path}/schedules/{a['id']}", {**body, "max_scheduled_runs": 9})
    server.handle("PATCH", f"{path}/schedules/{a['id']}", {**body, "max_scheduled_runs": None})
    stored = server.by_key()[("probe", "measured")]["schedules"][0]
    assert (stored["schedule"]["cron"], stored["max_scheduled_runs"]) == ("0 1 * * *", 9)
    assert server.handle("PATCH", path, {"parameter_openapi_schema": {}})[0] == 204
    stored = server.by_key()[("probe", "measured")]
    assert stored["parameter_openapi_schema"] == {"type": "object", "properties": {}}
    assert server.handle("PATCH", path, {"parameter_openapi_schema": None})[0] == 204
    assert server.handle("PATCH", path, {"description": "x"})[0] == 409
    assert server.handle("PATCH", path, {"labels": {"a": "b"}})[0] == 422


# ---------------------------------------------------------------------------------------
# Regressions: the bugs these tests found (apply followed by plan was not empty)

POOL_A_Q1 = {"work_pool_name": "pool-a", "work_queue_name": "q1"}
LIMITED = Schedule(slug="schedule-1", cron="0 0 * * *", max_scheduled_runs=5)
REGRESSIONS = [
    pytest.param(
        {"work_pool_name": "pool-a", "work_queue_name": "q2"},
        POOL_A_Q1,
        id="1a-queue-changed-alone",
    ),
    pytest.param(
        {"work_pool_name": "pool-b", "work_queue_name": "q1"},
        POOL_A_Q1,
        id="1b-pool-changed-queue-kept",
    ),
    pytest.param(
        {"work_pool_name": "pool-a"},
        POOL_A_Q1,
        id="1c-queue-removed",
    ),
    pytest.param(
        {"schedules": (LIMITED,)},
        None,
        id="2a-create-with-max-scheduled-runs",
    ),
    pytest.param(
        {"schedules": (LIMITED.model_copy(update={"max_scheduled_runs": None}),)},
        {"schedules": (LIMITED,)},
        id="2b-max-scheduled-runs-cleared",
    ),
    pytest.param(
        {"parameter_openapi_schema": None},
        None,
        id="3a-no-parameter-schema",
    ),
    pytest.param(
        {"parameter_openapi_schema": {}},
        None,
        id="3b-empty-parameter-schema",
    ),
    pytest.param(
        {"work_queue_name": "q1"},
        None,
        id="4-queue-without-pool",
    ),
]


@pytest.mark.parametrize(("declared", "before"), REGRESSIONS)
def test_known_bug_minimal_reproduction(
    declared: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """One declared deployment (all other fields at their defaults, schema {"type":
    "object", ...}), and, when `before` is given, the same deployment already applied with
    those fields instead. Apply, plan again: nothing should be left."""
    base = Deployment(
        flow_name="etl",
        name="daily",
        entrypoint="flows/etl.py:etl",
        tags=(MARKER,),
        parameter_openapi_schema={"type": "object", "properties": {}},
    )
    desired = base.model_copy(update=declared)
    server = FakePrefectServer(POOLS)
    if before is not None:
        seed_server(server, [Seed(base.model_copy(update=before))])
    plan = plan_for(server, [desired], prune=True, adopt=True)
    assert [o.error for o in apply(server, plan).failed] == []

    assert pending(plan_for(server, [desired], prune=True, adopt=True)) == []


# ---------------------------------------------------------------------------------------
# Through flowfleet's own client: what reaches the server, errors and retries

BASE = Deployment(
    flow_name="etl",
    name="daily",
    entrypoint="flows/etl.py:etl",
    tags=(MARKER,),
    parameter_openapi_schema={"type": "object", "properties": {}},
)


def test_an_unchanged_deployment_gets_no_request() -> None:
    """An example of what the property checks on random scenarios, with each kind of
    write next to the unchanged deployments (created, updated, pruned)."""
    kept = [BASE, BASE.model_copy(update={"name": "hourly", "schedules": (LIMITED,)})]
    updated = BASE.model_copy(update={"name": "eu"})
    pruned = BASE.model_copy(update={"name": "us"})
    server = FakePrefectServer(POOLS)
    seed_server(server, [Seed(d) for d in (*kept, updated, pruned)])
    created = BASE.model_copy(update={"flow_name": "report"})
    desired = [*kept, updated.model_copy(update={"paused": True}), created]
    ids = {server.key_of(r): r["id"] for r in server.rows.values()}
    plan = plan_for(server, desired, prune=True, adopt=False)
    assert [(c.action, c.name) for c in plan.changes] == [
        (Action.UNCHANGED, "etl/daily"),
        (Action.UNCHANGED, "etl/hourly"),
        (Action.UPDATE, "etl/eu"),
        (Action.CREATE, "report/daily"),
        (Action.DELETE, "etl/us"),
    ]

    assert [o.error for o in apply(server, plan).failed] == []

    assert writes_to_unchanged(server, plan) == []
    assert sorted((w.method, w.path) for w in server.writes) == [
        ("DELETE", f"/deployments/{ids['etl', 'us']}"),
        ("PATCH", f"/deployments/{ids['etl', 'eu']}"),
        ("POST", "/deployments/"),
        ("POST", "/flows/"),
    ]


def test_transient_errors_are_retried_by_flowfleets_client() -> None:
    """Each write is first answered 503 (Retry-After: 0) without reaching the server:
    `Api` retries it and the apply converges."""
    server = FakePrefectServer(POOLS)
    seed_server(server, [Seed(BASE)])
    created = BASE.model_copy(update={"flow_name": "report"})
    desired = [BASE.model_copy(update={"paused": True}), created]
    plan = plan_for(server, desired)
    behind = fake_transport(server)
    refused: list[str] = []

    def first_busy(request: httpx.Request) -> httpx.Response:
        attempt = f"{request.method} {request.url.path} {request.content!r}"
        if attempt not in refused:
            refused.append(attempt)
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"detail": "busy"})
        return behind.handle_request(request)

    result = apply(server, plan, httpx.MockTransport(first_busy))

    assert [o.error for o in result.failed] == []
    assert result.retries == len(refused) == 3  # POST /flows/, PATCH, POST /deployments/
    assert result.requests == 2 * len(refused)
    assert pending(plan_for(server, desired)) == []


def test_a_refused_write_is_reported_on_its_change() -> None:
    """The server's error answer, mapped by `Api`, is the failed change's error; the
    other changes go on."""
    server = FakePrefectServer(POOLS)
    gone = BASE.model_copy(update={"name": "gone"})
    seed_server(server, [Seed(BASE), Seed(gone)])
    desired = [BASE.model_copy(update={"paused": True})]
    plan = plan_for(server, desired, prune=True)
    [deleted] = plan.of(Action.DELETE)
    assert deleted.live is not None
    server.handle("DELETE", f"/deployments/{deleted.live.id}", None)  # by someone else

    result = apply(server, plan)

    assert [(o.change.name, o.error) for o in result.outcomes if not o.ok] == [
        (
            "etl/gone",
            f"environment '{ENVIRONMENT}' ({API_URL}): DELETE /deployments/{deleted.live.id} "
            "failed with 404: Deployment not found.",
        )
    ]
    assert pending(plan_for(server, desired, prune=True)) == []
