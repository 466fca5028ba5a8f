"""The figures of docs/reliability.md come from the fault tests, not from memory.

The fault tests call `record(name, data)`: with FLOWFLEET_FIGURES set to a folder, each
writes `<name>.json` there (otherwise nothing). Then:

    .venv/bin/python -m tests.faults.figures update   # run the fault tests, rewrite
                                                      # figures.json and the doc's table
    .venv/bin/python -m tests.faults.figures update tests/integration/test_lost_answers.py
                                   # run only these; their figures replace their entries
    .venv/bin/python -m tests.faults.figures refresh  # only recount tests/invalid
    .venv/bin/python -m tests.faults.figures check    # exit 1 if the doc's table is stale

tests/test_reliability_doc.py runs the check's logic in every `make test`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIGURES = Path(__file__).with_name("figures.json")
DOC = ROOT / "docs" / "reliability.md"
INVALID = ROOT / "tests" / "invalid"
TESTS = [
    "tests/integration/test_faults.py",
    "tests/integration/test_faults_sigkill.py",
    "tests/integration/test_lock.py",
    "tests/integration/test_protected.py",
    "tests/integration/test_two_projects.py",
    "tests/integration/test_saved_plan.py",
    "tests/integration/test_masking.py",
    "tests/integration/test_lost_answers.py",
]
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def record(name: str, data: dict[str, Any]) -> None:
    """Save one test's figures if FLOWFLEET_FIGURES names a folder."""
    folder = os.environ.get("FLOWFLEET_FIGURES")
    if folder:
        path = Path(folder) / f"{name}.json"
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def bad_inputs() -> int:
    """Broken configs tried, each with its exact expected error (tests/invalid)."""
    return len(list(INVALID.glob("*.yaml")))


def table(figures: dict[str, Any]) -> str:
    """The doc's table of figures."""
    kill, proxy, refused = figures["sigkill"], figures["proxy"], figures["refused"]
    rows = [
        ("server SIGKILLed during an apply of", f"{kill['declared']} deployments"),
        (
            "interrupted apply",
            f"exit {kill['exit_code']}: {kill['done']} done, {kill['failed']} failed, "
            f"{kill['not_attempted']} not attempted",
        ),
        (
            "after restart on the same database",
            f"{kill['found_after_restart']} found; next apply created "
            f"{kill['created_by_rerun']}, exit {kill['rerun_exit_code']}",
        ),
        (
            "faults injected by the proxy",
            f"{proxy['faults']} in {proxy['requests']} requests ("
            + ", ".join(f"{v} {k}" for k, v in sorted(proxy["by_kind"].items()))
            + ")",
        ),
        (
            "requests retried (apply, as reported)",
            f"{proxy['retries_reported']} (the proxy saw {proxy['retries_expected']} "
            "retriable answers on the apply path)",
        ),
        (
            "shortest wait after `429 Retry-After: 1`",
            f"{proxy['min_wait_after_429']:.2f} s over {proxy['after_429']} retries",
        ),
        (
            "refused keys (401/403/422) tried",
            f"{refused['cases']}; writes that reached the server: {refused['writes']}",
        ),
        *_rails(figures),
        *_lost_answers(figures),
        ("runs converged (a later plan was empty)", str(figures["converged"])),
        ("bad inputs tried (tests/invalid)", str(figures["bad_inputs"])),
        (
            "data lost / duplicated",
            f"{kill['missing'] + proxy['missing']} / "
            f"{kill['duplicates'] + proxy['duplicates'] + lost_duplicates(figures)}",
        ),
    ]
    lines = ["| what | figure |", "| --- | --- |"]
    lines += [f"| {what} | {figure} |" for what, figure in rows]
    lines += ["", "The interrupted apply's summary in that run:", "", "```text"]
    return "\n".join([*lines, *kill["output"], "```"])


def _rails(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """The safety rails' rows: lock, protected, two projects, saved plans, masking."""
    lock, saved = figures["lock"], [figures["saved_plan_server"], figures["saved_plan_config"]]
    refused, writes = sum(s["refused"] for s in saved), sum(s["writes"] for s in saved)
    return [
        (
            "concurrent applies of one environment (lock)",
            f"{lock['concurrent_applies']} at once, {lock['declared']} deployments: "
            f"{lock['duplicates']} duplicated, {lock['missing']} missing",
        ),
        (
            "prunes of a protected deployment",
            f"{figures['protected']['blocked_prunes']} blocked; deleted: "
            f"{figures['protected']['deleted_while_protected']}",
        ),
        (
            "prunes with two projects on one server",
            f"{figures['two_projects']['prunes']}; the other project's deployments deleted: "
            f"{figures['two_projects']['foreign_deleted']}",
        ),
        (
            "saved plans applied after the server or config changed",
            f"{refused} refused; writes: {writes}",
        ),
        (
            "outputs checked for a secret `job_variables.env` value",
            f"{figures['masking']['outputs_checked']}; leaks: {figures['masking']['leaks']}",
        ),
    ]


def lost_by_kind(figures: dict[str, Any]) -> dict[str, int]:
    """Answers lost after the server acted, per write kind, over both lost-answer runs."""
    counts: dict[str, int] = {}
    for run in (figures["lost_bulk"], figures["lost_once_per_apply"]):
        for kind, n in run["lost"].items():
            counts[kind] = counts.get(kind, 0) + n
    return dict(sorted(counts.items()))


def lost_duplicates(figures: dict[str, Any]) -> int:
    return int(figures["lost_bulk"]["duplicates"] + figures["lost_once_per_apply"]["duplicates"])


def _lost_answers(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """Lost answers, the deadline, two environments at once."""
    bulk, once = figures["lost_bulk"], figures["lost_once_per_apply"]
    late = bulk["late"] + once["late"]
    slow, two = figures["deadline"], figures["two_environments"]
    return [
        (
            f"answers lost after the server acted ({bulk['deployments']}-deployment apply with "
            f"{bulk['items']} pools, queues, variables, limits and blocks; {once['applies']} "
            "small applies)",
            f"{sum(lost_by_kind(figures).values())} ({late} held past the client's timeout): "
            + ", ".join(f"{n} {kind}" for kind, n in lost_by_kind(figures).items()),
        ),
        (
            "those applies",
            f"exit 0, every change done; {bulk['retries_reported'] + once['retries_reported']} "
            f"retries reported; objects counted: {bulk['objects_counted']}, duplicated: "
            f"{lost_duplicates(figures)}; lock released; next plan empty",
        ),
        (
            f"one endpoint answering after 90 s, `--timeout {slow['timeout']:g}`",
            f"exit {slow['exit_code']} after {slow['seconds']} s: {slow['done']} done, "
            f"{slow['failed']} failed, {slow['not_attempted']} not attempted "
            f"({slow['slow_requests']} tries of the slow endpoint); lock released",
        ),
        (
            "`apply --env dev --env prod`, dev's server failing mid-way",
            f"prod: {two['prod_done']} of {two['declared']} done; dev: {two['dev_done']} done, "
            f"{two['dev_failed']} failed, {two['dev_not_attempted']} not attempted; exit 1; "
            "the next apply converged both",
        ),
    ]


def collect(folder: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {
        p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))
    }
    figures["converged"] = sum(f.get("converged", 0) for f in list(figures.values()))
    figures["bad_inputs"] = bad_inputs()
    return figures


def doc_block(text: str) -> str:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    if match is None:
        raise SystemExit(f"{DOC}: no {BEGIN} ... {END} block")
    return match.group(1)


def update(tests: list[str]) -> int:
    """Run the fault tests (or only `tests`, keeping the others' recorded figures)."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "FLOWFLEET_FIGURES": folder}
        command = [sys.executable, "-m", "pytest", "-q", *(tests or TESTS)]
        code = subprocess.call(command, cwd=ROOT, env=env)
        if code:
            return code
        figures = json.loads(FIGURES.read_text()) if tests else {}
        figures.update(collect(Path(folder)))
    figures["converged"] = sum(
        f.get("converged", 0) for f in figures.values() if isinstance(f, dict)
    )
    write(figures)
    return 0


def write(figures: dict[str, Any]) -> None:
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    pattern = re.escape(BEGIN) + r".*?" + re.escape(END)
    block = f"{BEGIN}\n{table(figures)}\n{END}"
    DOC.write_text(re.sub(pattern, lambda _: block, DOC.read_text(), count=1, flags=re.S))


def refresh() -> int:
    """After tests/invalid changed: recount it without running the fault tests again."""
    figures = json.loads(FIGURES.read_text())
    figures["bad_inputs"] = bad_inputs()
    write(figures)
    return 0


def check() -> int:
    figures = json.loads(FIGURES.read_text())
    if doc_block(DOC.read_text()) != table(figures):
        print(f"{DOC} is stale: run python -m tests.faults.figures update", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "update":
        sys.exit(update(sys.argv[2:]))
    sys.exit({"refresh": refresh, "check": check}[sys.argv[1]]())
