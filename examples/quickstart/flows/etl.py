"""Copy rows from a source into the warehouse."""

from typing import Literal

from prefect import flow, task


@task
def extract(source: str, batch_size: int) -> list[int]:
    return list(range(batch_size))


@task
def load(rows: list[int], full_refresh: bool) -> int:
    return len(rows)


@flow(name="etl")
def run_etl(
    source: Literal["orders", "customers", "events"],
    batch_size: int = 500,
    full_refresh: bool = False,
) -> int:
    """Extract from `source` and load into the warehouse."""
    return load(extract(source, batch_size), full_refresh)
