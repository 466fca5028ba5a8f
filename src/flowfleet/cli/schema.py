"""`flowfleet schema`."""

from __future__ import annotations


def schema() -> int:
    """Print the JSON Schema of flowfleet.yaml (for editors and CI)."""
    from flowfleet.commands.schema import run_schema

    return run_schema()
