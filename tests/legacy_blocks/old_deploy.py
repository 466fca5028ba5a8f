"""The old set-up's deploy script, run with Prefect 2 (`make test-compat`):

    python old_deploy.py BLOCK_FILE ENV_FILE...

registers prefect-aws's block types, saves the ECSTask blocks by running BLOCK_FILE, then
runs `prefect deployment build FILE:FN -n NAME -ib <ib-block> --skip-upload --apply` for
each entry of each per-environment file, with its parameters, schedule, tags, version and
work queue. The commands run through Prefect's own CLI app in this one process: a
`prefect` process takes ~10 s to exit after its work (its background services' threads).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any

import yaml
from prefect.cli import app


def prefect(*arguments: str) -> None:
    print("$ prefect", " ".join(arguments), flush=True)
    code = app(list(arguments), standalone_mode=False)
    if code not in (None, 0):
        raise SystemExit(f"prefect {' '.join(arguments)} exited with {code}")


def build(ib_block: str, entry: dict[str, Any]) -> None:
    arguments = ["deployment", "build", entry["entrypoint"], "-n", entry["name"]]
    arguments += ["-ib", ib_block, "--skip-upload", "--apply"]
    if "parameters" in entry:
        arguments += ["--params", json.dumps(entry["parameters"])]
    schedule = entry.get("schedule") or {}
    for key in ("cron", "interval", "rrule", "timezone", "anchor-date"):
        if key in schedule:
            arguments += [f"--{key}", str(schedule[key])]
    for tag in entry.get("tags") or []:
        arguments += ["-t", tag]
    if "version" in entry:
        arguments += ["-v", str(entry["version"])]
    queue = (entry.get("work_pool") or {}).get("work_queue_name")
    if queue:
        arguments += ["-q", queue]
    if "description" in entry:
        arguments += ["-d", entry["description"]]
    prefect(*arguments)


def main(block_file: str, *environment_files: str) -> None:
    prefect("block", "register", "-m", "prefect_aws")
    runpy.run_path(block_file, run_name="__main__")
    for path in environment_files:
        with open(path) as file:
            data = yaml.safe_load(file)
        for entry in data["deployments"]:
            build(data["ib-block"], entry)


if __name__ == "__main__":
    main(*sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)
