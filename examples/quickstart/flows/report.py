"""A regional report, deployed once per region through a matrix."""

from datetime import date

from prefect import flow


@flow(log_prints=True)
def report(region: str, day: date | None = None, formats: list[str] = ["csv"]) -> dict:  # noqa: B006
    """Build the daily report of one region."""
    day = day or date.today()
    print(f"report for {region} on {day} as {', '.join(formats)}")
    return {"region": region, "day": day.isoformat(), "formats": formats}
