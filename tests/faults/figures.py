"""The figures of docs/reliability.md come from the fault tests, not from memory.

The fault tests call `record(name, data)`: with FLOWFLEET_FIGURES set to a folder, each
writes `<name>.json` there (otherwise nothing). Then:

    .venv/bin/python -m tests.faults.figures update   # run the fault tests, rewrite
                                                      # figures.json and the doc's table
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
        ("runs converged (a later plan was empty)", str(figures["converged"])),
        ("bad inputs tried (tests/invalid)", str(figures["bad_inputs"])),
        (
            "data lost / duplicated",
            f"{kill['missing'] + proxy['missing']} / {kill['duplicates'] + proxy['duplicates']}",
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


def update() -> int:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "FLOWFLEET_FIGURES": folder}
        code = subprocess.call([sys.executable, "-m", "pytest", "-q", *TESTS], cwd=ROOT, env=env)
        if code:
            return code
        figures = collect(Path(folder))
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
    sys.exit({"update": update, "refresh": refresh, "check": check}[sys.argv[1]]())
