"""Automations as comparable items, and their plan. Pure.

Two kinds: a deployment's trigger (`trigger`, named `flow/deployment/automation`), owned
by the deployment and deleted with it or when the trigger is removed, and a standalone
automation (`automation`, by name), deleted only with --prune. Both carry the ownership
marker tag; a trigger's also carries TRIGGER_TAG. Live automations are compared in the
desired ones' form: the trigger without ids, event names sorted, and actions that refer
to deployments, pools, queues, automations and blocks by name where the id is known.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from flowfleet.model.items import Item, json_value
from flowfleet.model.resources import REFERENCES, Automation, Deployment
from flowfleet.plan.change import Action, Change, FieldChange
from flowfleet.plan.items import differing

TRIGGER_TAG = "flowfleet:trigger"
AutomationChange = Change[Item, Item]
Ref = tuple[str, str]  # (what is referred to: deployment, work_pool, ...; its name)
SET_FIELDS = ("after", "expect", "for_each")  # sets in Prefect, lists on the wire
# Action fields an older server does not keep, with the value they then count as.
OLDER_SERVERS_DROP: dict[str, dict[str, Any]] = {"change-flow-run-state": {"force": False}}


def desired_automations(
    deployments: Sequence[Deployment], automations: Sequence[Automation], marker: str
) -> list[Item]:
    """The automations of the deployments' triggers, then the standalone ones."""
    triggers = [
        _item("trigger", f"{d.full_name}/{a.name}", a, (marker, TRIGGER_TAG))
        for d in deployments
        for a in d.triggers
    ]
    return [*triggers, *(_item("automation", a.name, a, (*a.tags, marker)) for a in automations)]


def _item(kind: str, name: str, automation: Automation, tags: Sequence[str]) -> Item:
    fields = automation.model_dump(mode="json", exclude={"name"})
    fields["tags"] = sorted(set(tags))
    return Item(kind, name, json_value(fields))


def automation_name(item: Item) -> str:
    """The automation's own name (a trigger's key is `flow/deployment/name`)."""
    return item.name.split("/", 2)[2] if item.kind == "trigger" else item.name


def trigger_deployment(item: Item) -> str:
    """`flow/deployment` of a trigger's item."""
    flow, deployment, _ = item.name.split("/", 2)
    return f"{flow}/{deployment}"


def references(item: Item) -> Iterator[Ref]:
    """What the item's actions refer to by name."""
    for field in ("actions", "actions_on_trigger", "actions_on_resolve"):
        for action in item.fields.get(field, ()):
            for ref in REFERENCES.values():
                if action.get(ref):
                    yield (ref, str(action[ref]))


def live_automation(data: Mapping[str, Any], names: Mapping[str, str]) -> Item:
    """A live automation (the server's JSON) as an item; `names` maps the ids it refers
    to to names (an id not in it stays an id, which no desired automation has)."""
    tags = sorted(data.get("tags") or ())
    fields: dict[str, Any] = {
        "description": data.get("description") or "",
        "enabled": data.get("enabled", True),
        "tags": tags,
        "trigger": normal_trigger(data["trigger"]),
    }
    for field in ("actions", "actions_on_trigger", "actions_on_resolve"):
        fields[field] = [named(a, names) for a in data.get(field) or ()]
    name = str(data["name"])
    if TRIGGER_TAG in tags:
        runs: dict[str, Any] = next(
            (a for a in fields["actions"] if a.get("type") == "run-deployment"), {}
        )
        name = f"{runs.get('deployment') or '?/?'}/{name}"
    return Item("trigger" if TRIGGER_TAG in tags else "automation", name, fields, id=data["id"])


def normal_trigger(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger without the ids the server gives it, its sets sorted."""
    result = {k: v for k, v in trigger.items() if k != "id"}
    for key in SET_FIELDS:
        if isinstance(result.get(key), list):
            result[key] = sorted(result[key])
    if isinstance(result.get("triggers"), list):
        result["triggers"] = [normal_trigger(t) for t in result["triggers"]]
    return dict(json_value(result))


def named(action: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A live action with its references by name where the id is known, and the fields
    an older server does not keep at their defaults (a Prefect 3.4 server drops the
    `force` of a change-flow-run-state action)."""
    result = {**OLDER_SERVERS_DROP.get(str(action.get("type")), {}), **action}
    for id_key, ref in REFERENCES.items():
        if id_key in result and (result[id_key] is None or result[id_key] in names):
            value = result.pop(id_key)
            result[ref] = None if value is None else names[value]
    return dict(json_value(result))


def plan_automations(
    desired: Sequence[Item],
    live: Sequence[Item],
    marker: str,
    *,
    deployments: Collection[str],
    prune: bool,
    adopt: bool,
) -> list[AutomationChange]:
    """Create, update, conflict; delete the owned triggers of `deployments` (those the
    config manages, and those the plan deletes) that are no longer declared, owned
    standalone automations no longer declared (with `prune`), and duplicates."""
    found, duplicates = _first_of_each(live, marker)
    made_by_prefect = _prefect_triggers(live)
    changes = [
        _change(item, found.get(item.key) or made_by_prefect.get(item.key), marker, adopt)
        for item in desired
    ]
    declared = {item.key for item in desired}
    for key, item in found.items():
        if key in declared or marker not in item.fields["tags"]:
            continue
        if item.kind == "trigger" and trigger_deployment(item) in deployments:
            changes.append(_delete(item, "trigger no longer declared"))
        elif item.kind == "automation" and prune:
            changes.append(_delete(item, "no longer declared"))
    reason = "a duplicate (an earlier create's answer was lost)"
    changes += [_delete(item, reason, duplicate=True) for item in duplicates]
    return changes


def _first_of_each(live: Sequence[Item], marker: str) -> tuple[dict[Ref, Item], list[Item]]:
    """The live automations by key (an owned one first) and the owned duplicates."""
    found: dict[Ref, Item] = {}
    duplicates = []
    ranked = sorted(live, key=lambda i: marker not in i.fields["tags"])
    for item in ranked:
        if item.key not in found:
            found[item.key] = item
        elif marker in item.fields["tags"]:
            duplicates.append(item)
    return found, duplicates


def _prefect_triggers(live: Sequence[Item]) -> dict[Ref, Item]:
    """The unowned automations `prefect deploy` made of deployments' triggers (no tags,
    one action: run a deployment it names), by the key of the trigger they are: they carry
    no TRIGGER_TAG, so they are read as standalone automations."""
    found: dict[Ref, Item] = {}
    for item in live:
        actions = item.fields["actions"]
        others = item.fields["actions_on_trigger"] or item.fields["actions_on_resolve"]
        if item.kind != "automation" or item.fields["tags"] or others or len(actions) != 1:
            continue
        [action] = actions
        if action.get("type") == "run-deployment" and action.get("source") == "selected":
            key = ("trigger", f"{action.get('deployment')}/{item.name}")
            found.setdefault(key, item)
    return found


def _delete(item: Item, reason: str, *, duplicate: bool = False) -> AutomationChange:
    key = (item.kind, f"{item.name} [{item.id}]" if duplicate else item.name)
    return AutomationChange(Action.DELETE, key, live=item, reason=reason, kind=item.kind)


def _change(item: Item, live: Item | None, marker: str, adopt: bool) -> AutomationChange:
    if live is None:
        return AutomationChange(Action.CREATE, item.key, desired=item, kind=item.kind)
    if marker not in live.fields["tags"] and not adopt:
        return AutomationChange(
            Action.CONFLICT,
            item.key,
            desired=item,
            live=live,
            reason="an automation of this name exists on the server but flowfleet does not "
            "own it; left alone (pass --adopt to take it over)",
            kind=item.kind,
        )
    fields = tuple(
        change
        for name in differing(item, live)
        for change in leaf_changes(name, live.fields.get(name), item.fields[name])
    )
    action = Action.UPDATE if fields else Action.UNCHANGED
    return AutomationChange(
        action, item.key, desired=item, live=live, fields=fields, kind=item.kind
    )


def leaf_changes(path: str, old: Any, new: Any) -> Iterator[FieldChange]:
    """The differing values inside two JSON values, by dotted path (`trigger.expect`,
    `actions[0].deployment`): a mapping key by key, lists of mappings of equal length
    item by item."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                yield from leaf_changes(f"{path}.{key}", old.get(key), new.get(key))
    elif _mappings(old) and _mappings(new) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                yield from leaf_changes(f"{path}[{index}]", a, b)
    else:
        yield FieldChange(path, old, new)


def _mappings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def reference_errors(
    desired: Sequence[Item], declared: Collection[Ref], exists: Mapping[Ref, str]
) -> list[str]:
    """A reference to what is neither declared for the environment nor on the server."""
    errors = []
    for item in desired:
        for ref in dict.fromkeys(references(item)):
            if ref not in declared and ref not in exists:
                what, name = ref
                errors.append(
                    f"{item.kind} '{item.name}': its action refers to {what.replace('_', ' ')} "
                    f"'{name}', which is neither declared for this environment nor on the "
                    "server; declare it, or correct the name"
                )
    return errors
