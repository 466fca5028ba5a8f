"""Plans and apply results as text, Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowfleet.apply import ApplyResult
from flowfleet.deploy import EnvironmentPlan
from flowfleet.plan import Action, Change, FieldChange, Plan

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.CONFLICT: "!",
    Action.UNCHANGED: "=",
}


def plan_text(planned: EnvironmentPlan) -> str:
    """A plan for a terminal: one line per change, one more per changed field."""
    plan = planned.plan
    lines = [f"Plan for {plan.project}/{plan.environment} ({planned.target.url}):"]
    for change in plan.changes:
        if change.action is Action.UNCHANGED:
            continue
        lines.append(f"  {SYMBOLS[change.action]} {change.name}  {_describe(change)}")
        lines.extend(f"      {f.field}: {_short(f.old)} → {_short(f.new)}" for f in change.fields)
    lines.extend(f"  error: {e}" for e in plan.errors)
    if plan.orphans:
        lines.append(
            f"  {len(plan.orphans)} managed deployment(s) no longer declared, kept "
            f"(--prune deletes them): {', '.join(plan.orphans)}"
        )
    lines.append(summary_line(plan))
    return "\n".join(lines)


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    text = (
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged"
    )
    if counts["conflict"]:
        text += f", {counts['conflict']} conflict(s) left alone"
    return ("No changes: " if not plan.has_changes else "Plan: ") + text + "."


def plan_markdown(plans: Sequence[EnvironmentPlan]) -> str:
    """Plans for a pull-request comment or $GITHUB_STEP_SUMMARY."""
    lines: list[str] = []
    for planned in plans:
        plan = planned.plan
        lines += [f"### flowfleet plan: `{plan.project}` / `{plan.environment}`", ""]
        lines += [f"**{summary_line(plan)}**", ""]
        changed = [c for c in plan.changes if c.action is not Action.UNCHANGED]
        if changed:
            lines += ["| | deployment | change |", "| --- | --- | --- |"]
            lines += [f"| {SYMBOLS[c.action]} | `{c.name}` | {_md_cell(c)} |" for c in changed]
            lines.append("")
        lines += [f"> **error:** {e}" for e in plan.errors]
        if plan.orphans:
            lines.append(
                f"{len(plan.orphans)} managed deployment(s) no longer declared "
                "(kept; `--prune` deletes them)."
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plan_json(plans: Sequence[EnvironmentPlan]) -> list[dict[str, Any]]:
    return [
        {
            "project": p.plan.project,
            "environment": p.plan.environment,
            "api_url": p.target.url,
            "has_changes": p.plan.has_changes,
            "counts": p.plan.counts(),
            "errors": list(p.plan.errors),
            "orphans": list(p.plan.orphans),
            "changes": [_change_json(c) for c in p.plan.changes],
        }
        for p in plans
    ]


def result_line(result: ApplyResult) -> str:
    c = result.counts()
    return (
        f"{result.environment}: {c['create']} created, {c['update']} updated, "
        f"{c['delete']} deleted, {c['unchanged']} unchanged, {c['failed']} failed "
        f"in {result.seconds:.1f} s ({result.requests} requests, {result.retries} retried)"
    )


def result_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "environment": result.environment,
        "counts": result.counts(),
        "seconds": round(result.seconds, 3),
        "requests": result.requests,
        "retries": result.retries,
        "failures": [{"deployment": o.change.name, "error": o.error} for o in result.failed],
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "flow": change.key[0],
        "deployment": change.key[1],
        "fields": [_field_json(f) for f in change.fields],
        "reason": change.reason or None,
    }


def _field_json(f: FieldChange) -> dict[str, Any]:
    return {"field": f.field, "old": f.old, "new": f.new}


def _describe(change: Change) -> str:
    if change.reason:
        return f"{change.action.value}: {change.reason}"
    return change.action.value


def _md_cell(change: Change) -> str:
    if change.fields:
        return "update: " + ", ".join(f"`{f.field}`" for f in change.fields)
    return _describe(change).replace("|", "\\|")


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
