"""Plans and apply results as text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowfleet.apply.deployments import ApplyResult
from flowfleet.plan.change import Action, AnyChange, FieldChange
from flowfleet.plan.deployments import is_rename
from flowfleet.plan.environment import EnvironmentPlan, changes_of, counts, plan_summary

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.CONFLICT: "!",
    Action.UNCHANGED: "=",
}


def plan_json(plans: Sequence[EnvironmentPlan]) -> list[dict[str, Any]]:
    return [plan_summary(p) for p in plans]


def plan_text(planned: EnvironmentPlan) -> str:
    """A plan for a terminal: one line per change, one more per changed field."""
    plan = planned.plan
    lines = [f"Plan for {plan.project}/{plan.environment} ({planned.target.url}):"]
    for change in changes_of(planned):
        if change.action is Action.UNCHANGED:
            continue
        lines.append(f"  {SYMBOLS[change.action]} {change.name}  {_describe(change)}")
        lines.extend(f"      {f.field}: {_short(f.old)} → {_short(f.new)}" for f in change.fields)
    lines.extend(f"  error: {e}" for e in planned.errors)
    if plan.orphans:
        lines.append(
            f"  {len(plan.orphans)} managed deployment(s) no longer declared, kept "
            f"(--prune deletes them): {', '.join(plan.orphans)}"
        )
    lines.append(summary_line(planned))
    return "\n".join(lines)


def summary_line(planned: EnvironmentPlan) -> str:
    found = counts(planned)
    text = (
        f"{found['create']} to create, {found['update']} to update, "
        f"{found['delete']} to delete, {found['unchanged']} unchanged"
    )
    if found["conflict"]:
        text += f", {found['conflict']} conflict(s) left alone"
    return ("No changes: " if not planned.has_changes else "Plan: ") + text + "."


def plan_markdown(plans: Sequence[EnvironmentPlan]) -> str:
    """Plans for a pull-request comment or $GITHUB_STEP_SUMMARY."""
    lines: list[str] = []
    for planned in plans:
        plan = planned.plan
        lines += [f"### flowfleet plan: `{plan.project}` / `{plan.environment}`", ""]
        lines += [f"**{summary_line(planned)}**", ""]
        changed = [c for c in changes_of(planned) if c.action is not Action.UNCHANGED]
        if changed:
            lines += ["| | deployment | change |", "| --- | --- | --- |"]
            lines += [f"| {SYMBOLS[c.action]} | `{c.name}` | {_md_cell(c)} |" for c in changed]
            lines.append("")
        lines += [f"> **error:** {e}" for e in planned.errors]
        if plan.orphans:
            lines.append(
                f"{len(plan.orphans)} managed deployment(s) no longer declared "
                "(kept; `--prune` deletes them)."
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def result_line(result: ApplyResult) -> str:
    c = result.counts()
    not_attempted = f", {c['not_attempted']} not attempted" if c["not_attempted"] else ""
    return (
        f"{result.environment}: {c['create']} created, {c['update']} updated, "
        f"{c['delete']} deleted, {c['unchanged']} unchanged, {c['failed']} failed"
        f"{not_attempted} in {result.seconds:.1f} s ({result.requests} requests, "
        f"{result.retries} retried)"
    )


def incomplete_text(result: ApplyResult) -> str | None:
    """For an apply that did not finish: what was done, what not, and what to do."""
    if result.complete:
        return None
    c = result.counts()
    done = c["create"] + c["update"] + c["delete"]
    text = (
        f"{result.environment}: apply incomplete: {done} changes done, {c['failed']} failed, "
        f"{c['not_attempted']} not attempted"
    )
    if result.stopped:
        text += f" ({result.stopped})"
    return text + "; fix the cause, then run apply again: it plans afresh and converges"


def not_attempted_text(result: ApplyResult) -> str | None:
    """Which changes were never sent, and why."""
    if not result.not_attempted:
        return None
    names = ", ".join(o.change.name for o in result.not_attempted)
    return (
        f"not attempted: {result.environment}: {result.not_attempted[0].error} "
        f"({len(result.not_attempted)} changes: {names})"
    )


def result_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "environment": result.environment,
        "counts": result.counts(),
        "complete": result.complete,
        "seconds": round(result.seconds, 3),
        "requests": result.requests,
        "retries": result.retries,
        "done": [o.change.name for o in result.done],
        "failures": [{"deployment": o.change.name, "error": o.error} for o in result.failed],
        "not_attempted": [o.change.name for o in result.not_attempted],
        "stopped": result.stopped,
    }


def _describe(change: AnyChange) -> str:
    if change.reason:
        return f"{change.action.value}: {change.reason}"
    return change.action.value


def _md_cell(change: AnyChange) -> str:
    if change.fields:
        return "update: " + ", ".join(_md_field(f) for f in change.fields)
    return _describe(change).replace("|", "\\|")


def _md_field(change: FieldChange) -> str:
    if is_rename(change.field):
        return f"`{change.field}` → `{change.new}`".replace("|", "\\|")
    return f"`{change.field}`"


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
