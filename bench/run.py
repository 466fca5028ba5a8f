"""The flowfleet benchmark: `make bench` (or `.venv/bin/python -m bench.run --help`).

For each server kind (SQLite, PostgreSQL), each N (--sizes) and each run (--runs), fresh
Prefect servers on 127.0.0.1 are started, and timed on them: `prefect deploy --all` cold
and again unchanged (N <= --prefect-deploy-max), `flowfleet apply --yes` cold, unchanged
and with 1 % of the deployments changed, `flowfleet plan`, and the raw API floor. Then
offline: `flowfleet --help`, `validate` of examples/quickstart, and validate, render and
plan at --offline-size. Writes bench/results/<time>.json, bench/results/latest.{json,md} and
bench/results/latest.png. Quick run: `make bench BENCH_ARGS="--sizes 10,100 --runs 1"`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import project, report
from bench.measure import (
    Floor,
    Sample,
    count_deployments,
    flowfleet_failures,
    read_cost,
    run_command,
)
from bench.servers import Postgres, PostgresUnavailable, fresh_servers, start_postgres

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = REPO / "bench" / "results"
SHIM = REPO / "bench" / "shim"  # works around a Prefect 3.8.8 `prefect deploy` bug
FAKE_URL = {"BENCH_API_URL": "http://127.0.0.1:9/api"}  # offline commands never call it
Record = Callable[[str, str, int, Sample], None]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000", help="N values, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per N (the median is reported)")
    parser.add_argument("--runs-large", type=int, default=None, help="runs for N >= --large-from")
    parser.add_argument("--large-from", type=int, default=1000, help="see --runs-large")
    parser.add_argument("--servers", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--postgres-sizes", default=None, help="N values on PostgreSQL (default: --sizes)"
    )
    parser.add_argument(
        "--server-python",
        default=None,
        help="run the servers with this interpreter's Prefect (e.g. the oldest supported "
        "release: .cache/compat/server-3.4/bin/python after make test-compat); "
        "default: the project's own",
    )
    parser.add_argument("--prefect-deploy-max", type=int, default=1000)
    parser.add_argument("--offline-size", type=int, default=10000, help="0 to skip")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _interrupt_on_signals()
    os.environ.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    work = Path(tempfile.mkdtemp(prefix="flowfleet-bench-"))
    compile_bytecode()
    data: dict[str, Any] = {"machine": report.machine(), "args": _args_json(args), "rows": []}
    data["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        if args.offline_size:  # first: quick, and the startup targets matter most
            data["offline"] = run_offline(args.offline_size, work)
        run_servers(args, work, data)
    except KeyboardInterrupt:
        print("bench: interrupted; writing what was measured", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        write_results(args.out, data)
    return 0


def compile_bytecode() -> None:
    """Byte-compile flowfleet and the installed packages, as `pip install` does: an
    editable install (and uv, by default) leaves them uncompiled, and where
    PYTHONDONTWRITEBYTECODE is set every timed command compiled its imports again
    (~1 s of CPU per command, measured on flowfleet plan)."""
    import compileall
    import sysconfig

    for folder in (REPO / "src", Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=2)


def _interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM (also in a background job, where SIGINT starts ignored) stop the
    run through the `finally` blocks that stop every server."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def run_servers(args: argparse.Namespace, work: Path, data: dict[str, Any]) -> None:
    data["server_prefect"] = server_version(args.server_python)

    def record(server: str, tool: str, n: int, sample: Sample) -> None:
        data["rows"].append({"server": server, "tool": tool, "n": n, **asdict(sample)})
        print(
            f"bench: {server:8} N={n:<6} {tool:28} {sample.seconds:8.2f} s  failed={sample.failed}",
            flush=True,
        )
        _save_partial(args.out, data)

    for kind in args.servers.split(","):
        postgres = _postgres_or_skip(data) if kind == "postgres" else None
        if kind == "postgres" and postgres is None:
            continue
        sizes = args.postgres_sizes if kind == "postgres" and args.postgres_sizes else args.sizes
        try:
            _guarded(data, server_read_cost, kind, work, args, postgres, data)
            for n in [int(s) for s in sizes.split(",") if s]:
                runs = args.runs_large if args.runs_large and n >= args.large_from else args.runs
                for _ in range(runs):
                    _guarded(data, one_round, kind, n, args, work, postgres, record)
        finally:
            if postgres is not None:
                postgres.stop()


def _guarded(data: dict[str, Any], step: Callable[..., None], *args: Any) -> None:
    """One round; an error is reported and recorded, and the other rounds go on."""
    try:
        step(*args)
    except Exception as exc:  # never fail the whole run for one round
        message = f"{step.__name__}{args[:2]}: {type(exc).__name__}: {exc}"
        print(f"bench: FAILED {message}", file=sys.stderr, flush=True)
        data.setdefault("errors", []).append(message)


def _postgres_or_skip(data: dict[str, Any]) -> Postgres | None:
    try:
        return start_postgres()
    except PostgresUnavailable as exc:
        message = f"PostgreSQL rows skipped: {exc}"
        print(f"bench: {message}", file=sys.stderr)
        data.setdefault("skipped", []).append(message)
        return None


def server_version(python: str | None) -> str:
    """The Prefect version the servers run."""
    if python is None:
        return report.version("prefect")
    command = [python, "-c", "import prefect; print(prefect.__version__)"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def server_read_cost(
    kind: str,
    work: Path,
    args: argparse.Namespace,
    postgres: Postgres | None,
    data: dict[str, Any],
) -> None:
    """The server's own cost of returning a deployment with a schedule (see read_cost)."""
    root = work / f"read-cost-{kind}"
    project.write_flows(root)
    with fresh_servers(work, ["read-cost"], postgres, args.server_python) as urls:
        cost = read_cost(urls["read-cost"], root)
    print(f"bench: {kind:8} read cost {cost}", flush=True)
    data.setdefault("read_cost", {})[kind] = cost


def one_round(
    kind: str,
    n: int,
    args: argparse.Namespace,
    work: Path,
    postgres: Postgres | None,
    record: Record,
) -> None:
    """Fresh servers, then every measurement of one N once."""
    root = work / f"{kind}-{n}"
    project.write_flows(root)
    names = ["flowfleet", "floor"] + (["deploy"] if n <= args.prefect_deploy_max else [])
    with fresh_servers(work, names, postgres, args.server_python) as urls:
        if "deploy" in urls:
            prefect = _prefect_bin(args.server_python)
            record(
                kind, "prefect deploy --all", n, prefect_deploy(root, n, urls["deploy"], prefect)
            )
            again = prefect_deploy(root, n, urls["deploy"], prefect)  # unchanged, again
            record(kind, "prefect deploy --all (unchanged)", n, again)
        for tool, sample in flowfleet_round(root, n, urls["flowfleet"]):
            record(kind, tool, n, sample)
        for tool, sample in floor_round(root, n, urls["floor"]):
            record(kind, tool, n, sample)


def _prefect_bin(server_python: str | None) -> Path:
    """`prefect` of the servers' Prefect: `prefect deploy` is timed on the same release."""
    return Path(server_python).parent / "prefect" if server_python else BIN / "prefect"


def prefect_deploy(root: Path, n: int, api_url: str, prefect: Path) -> Sample:
    path = project.write_prefect_yaml(root, project.specs(n))
    env = _env(root, PREFECT_API_URL=api_url, PYTHONPATH=str(SHIM))
    command = [str(prefect), "--no-prompt", "deploy", "--all", "--prefect-file", str(path)]
    sample, _ = run_command(command, root, env)
    sample.extra["deployments_on_server"] = count_deployments(api_url)
    sample.failed = n - sample.extra["deployments_on_server"]
    return sample


def flowfleet_round(root: Path, n: int, api_url: str) -> list[tuple[str, Sample]]:
    env = _env(root, BENCH_API_URL=api_url)
    project.write_flowfleet(root, project.specs(n))
    validate = flowfleet(root, env, "validate")
    cold = flowfleet(root, env, "apply", "--yes")
    cold.extra["deployments_on_server"] = count_deployments(api_url)
    unchanged = flowfleet(root, env, "apply", "--yes")
    project.write_flowfleet(root, project.specs(n), from_settings=True)
    settings = _env(root, PREFECT_API_URL=api_url)
    unchanged_settings = flowfleet(root, settings, "apply", "--yes")
    plan_settings = flowfleet(root, settings, "plan")
    project.write_flowfleet(root, project.specs(n, project.changed_every(n)))
    changed = flowfleet(root, env, "apply", "--yes")
    plan = flowfleet(root, env, "plan")
    return [
        ("flowfleet validate", validate),
        ("flowfleet apply (cold)", cold),
        ("flowfleet apply (unchanged)", unchanged),
        ("flowfleet apply (unchanged, PREFECT_API_URL)", unchanged_settings),
        ("flowfleet apply (1 % changed)", changed),
        ("flowfleet plan (unchanged)", plan),
        ("flowfleet plan (unchanged, PREFECT_API_URL)", plan_settings),
    ]


def flowfleet(root: Path, env: dict[str, str], *command: str) -> Sample:
    full = [str(BIN / "flowfleet"), *command, "--env", project.ENVIRONMENT, "--json"]
    sample, stdout = run_command(full, root, env)
    if command[0] == "apply":
        sample.failed, counts = flowfleet_failures(stdout)
        sample.extra.update(counts)
    return sample


def floor_round(root: Path, n: int, api_url: str) -> list[tuple[str, Sample]]:
    floor = Floor(api_url, root)
    try:
        cold = floor.cold(project.specs(n))
        unchanged = floor.unchanged()
        changed = floor.changed(project.specs(n, project.changed_every(n)))
    finally:
        floor.close()
    return [
        ("API floor (cold)", cold),
        ("API floor (unchanged)", unchanged),
        ("API floor (1 % changed)", changed),
    ]


def run_offline(n: int, work: Path) -> list[dict[str, Any]]:
    """Wall time and peak memory of the commands that need no server (and plan at N)."""
    quickstart = REPO / "examples" / "quickstart"
    root = work / f"offline-{n}"
    project.write_flows(root)
    project.write_flowfleet(root, project.specs(n))
    cache = {"FLOWFLEET_CACHE_DIR": str(work / "cache")}  # warmed by the first row
    first = "flowfleet validate (quickstart, empty cache)"
    rows = [
        _offline(first, ["validate"], quickstart, {}, fresh_cache=work / "empty-caches"),
        _offline("flowfleet --help", ["--help"], quickstart, cache),
        _offline("flowfleet validate (quickstart)", ["validate"], quickstart, cache),
        _offline(f"flowfleet validate (N={n})", ["validate"], root, {**FAKE_URL, **cache}),
        _offline(
            f"flowfleet render --json (N={n})",
            ["render", "--env", "bench", "--json"],
            root,
            {**FAKE_URL, **cache},
        ),
    ]
    with fresh_servers(work, ["offline-plan"], None) as urls:
        url = {"BENCH_API_URL": urls["offline-plan"]}
        plan = ["plan", "--env", "bench", "--json"]
        rows.append(_offline(f"flowfleet plan, empty server (N={n})", plan, root, url))
    return rows


def _offline(
    label: str,
    command: list[str],
    cwd: Path,
    extra: dict[str, str],
    fresh_cache: Path | None = None,
) -> dict[str, Any]:
    """Median of 3 runs; with `fresh_cache`, each run starts with an empty flowfleet cache."""
    full = [str(BIN / "flowfleet"), *command]
    samples = []
    for i in range(3):
        if fresh_cache is not None:
            extra = {**extra, "FLOWFLEET_CACHE_DIR": str(fresh_cache / str(i))}
        samples.append(run_command(full, cwd, _env(cwd, **extra))[0])
    seconds = sorted(s.seconds for s in samples)[1]
    rss = max(s.max_rss_mb for s in samples)
    print(f"bench: offline {label:45} {seconds:7.2f} s {rss:7.0f} MB", flush=True)
    return {
        "command": label,
        "seconds": seconds,
        "max_rss_mb": rss,
        "exit_code": samples[0].exit_code,
    }


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(root / ".prefect-home"), **extra)
    return env


def _args_json(args: argparse.Namespace) -> dict[str, Any]:
    return {k: str(v) for k, v in vars(args).items()}


def _save_partial(out: Path, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "partial.json").write_text(json.dumps(data, indent=1))


def write_results(out: Path, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stamp = data["started"].replace(":", "").replace("-", "")
    text = json.dumps(data, indent=1)
    (out / f"{stamp}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "partial.json").unlink(missing_ok=True)
    for name in (stamp, "latest"):  # the docs link the stamped files of the run they show
        (out / f"{name}.md").write_text(report.markdown(data))
        report.plot(data, out / f"{name}.png")
    print(f"bench: results in {out}/latest.json, latest.md, latest.png")


if __name__ == "__main__":
    sys.exit(main())
