"""A report per region, at the hour given."""

from prefect import flow


@flow(name="regional-report", log_prints=True)
def report(region: str, hour: int = 6, full: bool = False) -> str:
    """Build the daily report of one region."""
    print(f"report for {region} at {hour}:00 (full: {full})")
    return region
