"""Saved plans: `plan --out plan.json`, then `apply plan.json` applies exactly that plan.

The file records what was planned (files, environments, options), the changes as `plan
--json` shows them, and two fingerprints per environment: of the desired state (every
declared deployment and resource) and of the live state the plan was computed from (every
deployment, flow, work pool and resource read, and the ownership list). A fingerprint is
one SHA-256 per object, so a refusal can name what changed. `apply plan.json` re-reads
config and server, plans again, and refuses unless both fingerprints and the changes are
the same; then the recomputed plan *is* the saved one, and that is what it applies.

No secret value is written: the changes are masked as in every output, and secret values
(block fields from `${VAR}`, `secret_env` entries) are replaced by `***` before hashing, so
that a hash cannot be used to guess a short secret. A secret changed between plan and apply
still shows: the recomputed changes then differ from the saved ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowfleet._version import __version__
from flowfleet.errors import FlowfleetError
from flowfleet.model.items import Item
from flowfleet.model.masking import mask_env
from flowfleet.model.resources import Deployment, LiveState
from flowfleet.plan.environment import EnvironmentPlan, Fingerprint, Hashes, plan_summary
from flowfleet.plan.items import masked

FORMAT = 1


class PlanChanged(FlowfleetError):
    """The saved plan no longer matches the config or the server."""


@dataclass(frozen=True)
class PlanRequest:
    """What was planned: the same files, environments and options are applied."""

    files: tuple[str, ...]
    environments: tuple[str, ...]
    project: str | None
    prune: bool
    adopt: bool
    preview: str | None = None


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    request: PlanRequest
    environments: list[dict[str, Any]]


def fingerprint(
    deployments: Sequence[Deployment],
    items: Sequence[Item],
    live: LiveState,
    live_items: Mapping[tuple[str, str], Item],
    owned: Iterable[tuple[str, str]],
) -> Fingerprint:
    """The fingerprints of one environment's plan, secret values masked."""
    secret_env = {name for d in deployments for name in d.secret_env}
    item_secrets = {i.key: i for i in items}
    desired = {
        f"deployment:{d.full_name}": _hash(_deployment(d, set(d.secret_env))) for d in deployments
    }
    desired |= {f"{i.kind}:{i.name}": _hash(_item(i, i)) for i in items}
    current = {
        f"deployment:{d.deployment.full_name}": _hash([d.id, _deployment(d.deployment, secret_env)])
        for d in live.deployments
    }
    current |= {f"flow:{name}": _hash(flow_id) for name, flow_id in live.flows.items()}
    current |= {f"work_pool:{name}": _hash(name) for name in live.work_pools}
    current |= {
        f"{i.kind}:{i.name}": _hash([i.id, _item(i, item_secrets.get(key, i))])
        for key, i in live_items.items()
    }
    current["ownership list"] = _hash(sorted(owned))
    return Fingerprint(desired, current)


def write(path: Path, request: PlanRequest, plans: Sequence[EnvironmentPlan]) -> None:
    """Write the plan file (masked changes, fingerprints; never a secret value)."""
    environments = [
        {**summary, "desired": p.fingerprint.desired, "live": p.fingerprint.live}
        for summary, p in zip([plan_summary(p) for p in plans], plans, strict=True)
    ]
    data = {
        "flowfleet_plan": FORMAT,
        "flowfleet_version": __version__,
        "request": {
            "files": list(request.files),
            "environments": list(request.environments),
            "project": request.project,
            "prune": request.prune,
            "adopt": request.adopt,
            "preview": request.preview,
        },
        "environments": environments,
    }
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise FlowfleetError(f"{path}: cannot write the plan file: {exc.strerror}") from None


def read(path: Path) -> SavedPlan:
    """Load a plan file written by `plan --out`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowfleetError(f"{path}: cannot read the plan file: {exc.strerror}") from None
    except ValueError:
        raise FlowfleetError(
            f"{path}: not a plan file (invalid JSON); write one with `flowfleet plan --out`"
        ) from None
    if not isinstance(data, dict) or data.get("flowfleet_plan") != FORMAT:
        raise FlowfleetError(
            f"{path}: not a plan file of format {FORMAT}; write one with this version's "
            "`flowfleet plan --out`"
        )
    try:
        r = data["request"]
        request = PlanRequest(
            tuple(str(f) for f in r["files"]),
            tuple(str(e) for e in r["environments"]),
            r["project"],
            bool(r["prune"]),
            bool(r["adopt"]),
            r.get("preview"),
        )
        return SavedPlan(path, request, [dict(e) for e in data["environments"]])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise FlowfleetError(
            f"{path}: the plan file is incomplete or was edited; write it again with "
            "`flowfleet plan --out`"
        ) from None


def check(saved: SavedPlan, plans: Sequence[EnvironmentPlan]) -> None:
    """Refuse (PlanChanged) unless the recomputed plans are the saved ones."""
    now = {
        p.plan.environment: (p, s)
        for p, s in zip(plans, [plan_summary(p) for p in plans], strict=True)
    }
    problems = []
    for old in saved.environments:
        env = old["environment"]
        if env not in now:
            problems.append(f"environment '{env}' is no longer planned")
            continue
        planned, summary = now[env]
        where = f"environment '{env}' ({planned.target.url})"
        problems += [f"{where}: {p}" for p in _differences(old, planned, summary)]
    saved_envs = {old["environment"] for old in saved.environments}
    problems += [
        f"environment '{env}' is planned now but is not in the saved plan"
        for env in sorted(now.keys() - saved_envs)
    ]
    if problems:
        raise PlanChanged(
            f"{saved.path}: the saved plan is out of date; nothing was changed:\n  "
            + "\n  ".join(problems)
            + "\nRun `flowfleet plan --out` again, review it, and apply the new file."
        )


def _differences(
    old: dict[str, Any], planned: EnvironmentPlan, summary: dict[str, Any]
) -> list[str]:
    problems = []
    if old["api_url"] != planned.target.url:
        problems.append(f"was planned against {old['api_url']}")
    config = _changed_keys(old["desired"], planned.fingerprint.desired)
    if config:
        problems.append("the config changed since the plan: " + config)
    server = _changed_keys(old["live"], planned.fingerprint.live)
    if server:
        problems.append("the server changed since the plan: " + server)
    if not problems and old["changes"] != summary["changes"]:
        problems.append("the changes differ from the saved plan (e.g. a secret value changed)")
    return problems


def _changed_keys(old: Hashes, new: Hashes) -> str:
    items = [f"{k} (changed)" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]]
    items += [f"{k} (new)" for k in sorted(new.keys() - old.keys())]
    items += [f"{k} (gone)" for k in sorted(old.keys() - new.keys())]
    more = f" and {len(items) - 10} more" if len(items) > 10 else ""
    return ", ".join(items[:10]) + more


def _deployment(deployment: Deployment, secret: set[str]) -> Any:
    data = deployment.model_dump(mode="json")
    data["job_variables"] = mask_env(data["job_variables"], secret)
    return data


def _item(item: Item, secrets_from: Item) -> Any:
    return {name: masked(secrets_from, name, value) for name, value in item.fields.items()}


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]
