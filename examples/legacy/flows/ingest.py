"""A flow deployed with the older one-file-per-environment format."""

from prefect import flow


@flow(name="ingest")
def ingest(table: str, limit: int = 100) -> int:
    """Pretend to ingest `limit` rows of `table`."""
    return limit
