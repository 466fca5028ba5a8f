"""Housekeeping: drop old data."""

from prefect import flow


@flow(log_prints=True)
def cleanup(retention_days: int = 30, dry_run: bool = True) -> str:
    """Delete what is older than `retention_days` (only report it when `dry_run`)."""
    verb = "would delete" if dry_run else "deleted"
    result = f"{verb} data older than {retention_days} days"
    print(result)
    return result
