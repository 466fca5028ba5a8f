"""What an unchanged `flowfleet apply` at N deployments would take if the Prefect server
cached its list of time zones (see bench/shim_tz/sitecustomize.py).

    .venv/bin/python -m bench.whatif [--n 1000] [--runs 3]

Two fresh SQLite-backed servers, one stock and one with the shim; on each, a cold apply
(not timed), then the unchanged apply and the raw read floor (medians). Writes
bench/results/whatif-tz.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench import project
from bench.measure import Floor
from bench.run import RESULTS, flowfleet
from bench.run import _env as bench_env
from bench.servers import fresh_servers

SHIM = Path(__file__).resolve().parent / "shim_tz"


def measure(n: int, runs: int, work: Path, patched: bool) -> dict[str, Any]:
    root = work / ("patched" if patched else "stock")
    project.write_flows(root)
    project.write_flowfleet(root, project.specs(n))
    if patched:
        os.environ["PYTHONPATH"] = str(SHIM)  # inherited by the server process only here
    try:
        with fresh_servers(work, ["whatif"], None) as urls:
            os.environ.pop("PYTHONPATH", None)
            env = bench_env(root, BENCH_API_URL=urls["whatif"])
            cold = flowfleet(root, env, "apply", "--yes")
            unchanged = [flowfleet(root, env, "apply", "--yes").seconds for _ in range(runs)]
            floor = Floor(urls["whatif"], root)
            try:
                reads = [floor.unchanged().seconds for _ in range(runs)]
            finally:
                floor.close()
    finally:
        os.environ.pop("PYTHONPATH", None)
    return {
        "server": "time zones cached" if patched else "stock Prefect 3.8.8",
        "n": n,
        "cold_apply_s": cold.seconds,
        "unchanged_apply_s": statistics.median(unchanged),
        "read_floor_s": statistics.median(reads),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flowfleet-whatif-"))
    try:
        rows = [measure(args.n, args.runs, work, patched) for patched in (False, True)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "| server | N | cold apply s | unchanged apply s (median) | read floor s (median) |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {r['server']} | {r['n']} | {r['cold_apply_s']:.1f} | "
            f"{r['unchanged_apply_s']:.2f} | {r['read_floor_s']:.2f} |"
            for r in rows
        ),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "whatif-tz.json").write_text(json.dumps(rows, indent=1))
    (RESULTS / "whatif-tz.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
