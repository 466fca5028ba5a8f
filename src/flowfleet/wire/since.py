"""Wire fields that not every supported Prefect server has: (schema, field) → the first
Prefect version whose server schema has it. Empty means every field flowfleet sends or
reads exists from the oldest supported version (3.4) on; tests/test_wire_contract.py
checks this table against the installed Prefect."""

from __future__ import annotations

FIELD_SINCE: dict[tuple[str, str], str] = {}
