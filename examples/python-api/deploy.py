"""Deployments generated from a table: one per row of deployments.csv, applied with
flowfleet's Python API.

    python deploy.py                     # an embedded local server (.flowfleet/dev/)
    python deploy.py --api-url URL       # a running Prefect server
    python deploy.py --plan-only         # show the plan, change nothing
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import flowfleet.sdk as ff

HERE = Path(__file__).resolve().parent


def deployments(table: Path) -> list[dict[str, Any]]:
    """One deployment entry per row, in the terms of flowfleet.yaml."""
    with table.open(newline="", encoding="utf-8") as rows:
        return [
            {
                "name": f"report-{row['region']}",
                "entrypoint": "flows/report.py:report",
                "parameters": {
                    "region": row["region"],
                    "hour": int(row["hour"]),
                    "full": row["full"] == "true",
                },
                "schedules": [
                    {"cron": f"0 {int(row['hour'])} * * *", "timezone": row["timezone"]}
                ],
                "tags": ["reports", row["region"].split("-")[0]],
            }
            for row in csv.DictReader(rows)
        ]


def config(api_url: str | None) -> dict[str, Any]:
    dev = {"api_url": api_url} if api_url else {"local": True}
    return {
        "project": "python-api-example",
        "environments": {"dev": dev},
        "defaults": {
            "work_pool": {"name": "reports-{env}"},
            "pull_steps": [
                {"prefect.deployments.steps.set_working_directory": {"directory": str(HERE)}}
            ],
        },
        "work_pools": {"reports-{env}": {"type": "process"}},
        "deployments": deployments(HERE / "deployments.csv"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-url")
    parser.add_argument("--plan-only", action="store_true")
    args = parser.parse_args(argv)
    try:
        loaded = ff.build(config(args.api_url), root=HERE)
        ff.validate(loaded, raise_on_error=True)
        [planned] = ff.plan(loaded, "dev", prune=True)
        for change in [*planned.infra.changes, *planned.plan.changes]:
            print(f"{change.action.value:9}  {change.name}")
        if args.plan_only or not planned.has_changes:
            print("no changes" if not planned.has_changes else "plan only: nothing applied")
            return 0
        [result] = ff.apply(loaded, "dev", prune=True)
    except ff.FlowfleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(result.counts())
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
