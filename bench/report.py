"""Results → the machine description, a Markdown table and a PNG plot.

Regenerate both from a results file: `.venv/bin/python -m bench.report bench/results/latest.json`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

PLOTTED = (
    "prefect deploy --all",
    "prefect deploy --all (unchanged)",
    "flowfleet apply (cold)",
    "flowfleet apply (unchanged)",
    "flowfleet apply (1 % changed)",
    "API floor (cold)",
)


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, Python and Prefect versions."""
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "prefect": version("prefect"),
        "flowfleet": version("flowfleet"),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(package)
    except PackageNotFoundError:
        return "not installed"


def medians(data: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    """(server, tool, N) → median seconds, runs, worst failures, median peak RSS."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in data.get("rows", []):
        groups[(row["server"], row["tool"], row["n"])].append(row)
    return {
        key: {
            "seconds": statistics.median(r["seconds"] for r in rows),
            "runs": len(rows),
            "failed": max(r["failed"] for r in rows),
            "retries": max(r["extra"].get("retries", 0) for r in rows),
            "max_rss_mb": statistics.median(r["max_rss_mb"] for r in rows),
        }
        for key, rows in groups.items()
    }


def markdown(data: dict[str, Any]) -> str:
    """The machine, one table per server (tools × N) and the offline commands."""
    m = data["machine"]
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB, {m['os']}; "
        f"Python {m['python']}, Prefect {m['prefect']} (client; servers: Prefect "
        f"{data.get('server_prefect', m['prefect'])}), flowfleet {m['flowfleet']}. "
        f"Started {data.get('started', '?')}.",
        "",
    ]
    lines += [f"- {s}" for s in data.get("skipped", [])]
    table = medians(data)
    for server in sorted({k[0] for k in table}):
        lines += _server_table(server, table)
    lines += _memory_table(table)
    lines += _read_cost_table(data.get("read_cost", {}))
    lines += ["", "**Targets of issue 17**", "", *targets(data)]
    if data.get("offline"):
        lines += [
            "",
            "| offline command | wall s (median of 3) | peak RSS MB |",
            "| --- | ---: | ---: |",
        ]
        lines += [
            f"| `{r['command']}` | {r['seconds']:.2f} | {r['max_rss_mb']:.0f} |"
            for r in data["offline"]
        ]
    return "\n".join(lines) + "\n"


def _memory_table(table: dict[tuple[str, str, int], dict[str, Any]]) -> list[str]:
    """Peak memory of each flowfleet command at each server's largest N."""
    rows = []
    for server in sorted({k[0] for k in table}):
        largest = max(k[2] for k in table if k[0] == server)
        rows += [
            f"| {server} | {largest} | {tool} | {value['max_rss_mb']:.0f} |"
            for (kind, tool, n), value in table.items()
            if kind == server and n == largest and tool.startswith("flowfleet")
        ]
    if not rows:
        return []
    header = [
        "",
        "**Peak memory** — median peak RSS of each flowfleet command at the largest N",
        "",
    ]
    return [*header, "| server | N | command | peak RSS MB |", "| --- | ---: | --- | ---: |", *rows]


def _read_cost_table(costs: dict[str, dict[str, float]]) -> list[str]:
    """The server's time to return one page of deployments with and without a schedule."""
    if not costs:
        return []
    lines = [
        "",
        "**Server cost of a schedule** — N deployments created one by one, then read back as "
        "one `POST /deployments/filter` page (median of 5)",
        "",
        "| server | N | create with / without a cron schedule s | read with / without s "
        "| ms per schedule: create, read |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for server, c in sorted(costs.items()):
        lines.append(
            f"| {server} | {c['n']:.0f} | {c['create_with_schedule_s']:.2f} / "
            f"{c['create_without_schedule_s']:.2f} | {c['with_schedule_s']:.3f} / "
            f"{c['without_schedule_s']:.3f} | {c['create_ms_per_schedule']:.1f}, "
            f"{c['ms_per_schedule']:.1f} |"
        )
    return lines


def _server_table(server: str, table: dict[tuple[str, str, int], dict[str, Any]]) -> list[str]:
    sizes = sorted({k[2] for k in table if k[0] == server})
    tools = list(dict.fromkeys(k[1] for k in table if k[0] == server))
    lines = ["", f"**{server}** — median wall seconds (runs; failed changes; retries)", ""]
    lines.append("| tool | " + " | ".join(f"N={n}" for n in sizes) + " |")
    lines.append("| --- |" + " ---: |" * len(sizes))
    for tool in tools:
        cells = [_cell(table.get((server, tool, n))) for n in sizes]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return lines


def _cell(value: dict[str, Any] | None) -> str:
    if value is None:
        return "—"
    notes = [f"{value['runs']}×"]
    if value["failed"]:
        notes.append(f"**{value['failed']} failed**")
    if value["retries"]:
        notes.append(f"{value['retries']} retries")
    return f"{value['seconds']:.2f} ({', '.join(notes)})"


def plot(data: dict[str, Any], path: Path) -> None:
    """Time against N per tool and server, log-log; skipped without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "bench: matplotlib is not installed; no plot (`make bench` installs it)",
            file=sys.stderr,
        )
        return
    table = medians(data)
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for server in sorted({k[0] for k in table}):
        for colour, tool in enumerate(PLOTTED):
            points = sorted(
                (k[2], v["seconds"]) for k, v in table.items() if k[:2] == (server, tool)
            )
            if points:
                style = "-" if server == "sqlite" else "--"
                xs, ys = zip(*points, strict=True)
                label = f"{tool} [{server}]"
                axes.plot(xs, ys, style, color=f"C{colour}", marker="o", label=label)
    axes.set(xscale="log", yscale="log", xlabel="deployments (N)", ylabel="wall seconds (median)")
    axes.set_title(f"flowfleet vs prefect deploy vs raw API ({data['machine']['nproc']} CPUs)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


Key = tuple[str, str, int]


# `flowfleet validate` before issue 17 (Prefect 3.9.1, this harness): the 2× target's base.
VALIDATE_BEFORE = {1000: 1.30, 10000: 12.1}


def targets(data: dict[str, Any]) -> list[str]:
    """Each target of issue 17: the measured ratio or value, met or missed."""
    t = {k: v["seconds"] for k, v in medians(data).items()}
    lines = []
    for server in sorted({k[0] for k in t}):
        for tool in UNCHANGED:
            lines.append(_within_sum(t, server, tool, 1000, 1.2))
        for n in (100, 1000):
            lines.append(
                _within(t, data, server, "flowfleet apply (cold)", "API floor (cold)", n, 1.1)
            )
    offline = {r["command"]: r for r in data.get("offline", [])}
    validate = {n: v for (_, tool, n), v in t.items() if tool == "flowfleet validate"}
    validate |= {
        int(c.split("N=")[1].rstrip(")")): r["seconds"]
        for c, r in offline.items()
        if c.startswith("flowfleet validate (N=")
    }
    for n, before in VALIDATE_BEFORE.items():
        if n in validate:
            what = f"`flowfleet validate` at N={n} ≥ 2× faster than before ({before} s)"
            lines.append(_verdict(what, validate[n], before / 2))
    for command, row in offline.items():
        if command.startswith("flowfleet validate (N="):
            lines.append(_verdict(f"`{command}` < 400 MB", row["max_rss_mb"], 400.0, "MB"))
    return [line for line in lines if line]


UNCHANGED = (
    "flowfleet apply (unchanged)",
    "flowfleet apply (unchanged, PREFECT_API_URL)",
    "flowfleet plan (unchanged)",
    "flowfleet plan (unchanged, PREFECT_API_URL)",
)


def _within_sum(t: dict[Key, float], server: str, tool: str, n: int, factor: float) -> str:
    """`tool` within `factor` × (validate + reading everything back) at N."""
    parts = [(server, "flowfleet validate", n), (server, "API floor (unchanged)", n)]
    if (server, tool, n) not in t or any(p not in t for p in parts):
        return ""
    base = sum(t[p] for p in parts)
    ratio = t[(server, tool, n)] / base
    verdict = "met" if ratio <= factor else f"**missed** ({ratio / factor:.2f}× the allowed time)"
    return (
        f"- [{server}] {tool} at N={n} within {factor}× of validate + read floor "
        f"({base:.2f} s): {t[(server, tool, n)]:.2f} s, {ratio:.2f}× — {verdict}"
    )


def _within(
    t: dict[Key, float], data: dict[str, Any], server: str, tool: str, floor: str, n: int, f: float
) -> str:
    if (server, tool, n) not in t or (server, floor, n) not in t:
        return ""
    ratio = t[(server, tool, n)] / t[(server, floor, n)]
    failed = medians(data)[(server, tool, n)]["failed"]
    ok = ratio <= f and failed == 0
    verdict = "met" if ok else f"**missed** ({ratio / f:.2f}× the allowed time, {failed} failed)"
    return f"- [{server}] {tool} within {f}× of {floor} at N={n}: {ratio:.2f}× — {verdict}"


def _verdict(what: str, value: float, limit: float, unit: str = "s") -> str:
    verdict = "met" if value <= limit else f"**missed** by {value - limit:.2f} {unit}"
    return f"- {what}: {value:.2f} {unit} — {verdict}"


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    loaded = json.loads(source.read_text())
    source.with_suffix(".md").write_text(markdown(loaded))
    plot(loaded, source.with_suffix(".png"))
