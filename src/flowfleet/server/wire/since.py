"""Wire fields that not every supported Prefect server has: (wire model name, field) →
the first Prefect version whose server schema has it, for gating requests on the
server's version (`GET /admin/version`; see flowfleet.plan.features, which refuses a
config that needs one of them before any write).

Every other field flowfleet sends or reads exists in Prefect 3.4.25 and 3.9.1 alike
(tests/test_wire_contract.py checks this table against the installed Prefect). Their
schemas differ otherwise only in fields flowfleet neither sends nor reads: `replaces` of
DeploymentScheduleCreate/Update (a schedule rename is a PATCH of that schedule with its
new slug, which every supported server takes), `work_queue_id` of DeploymentResponse and
`active_slots` of WorkQueueResponse are new since 3.4.25, and `/work_pools/filter`
answers `core.WorkPool` on 3.4.25 and `responses.WorkPoolResponse` on 3.9.1 (same fields).
A deployment's `concurrency_options.grace_period_seconds` came with Prefect 3.6.6 (a
3.4 server ignores it: flowfleet sends it only when the config sets it).
"""

from __future__ import annotations

FIELD_SINCE: dict[tuple[str, str], str] = {
    ("ConcurrencyOptions", "grace_period_seconds"): "3.6.6",
    ("DeploymentConcurrencyOptions", "grace_period_seconds"): "3.6.6",
}
