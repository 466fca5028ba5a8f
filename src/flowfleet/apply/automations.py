"""Apply automation changes: create (POST), update in place (PUT, the id is kept), delete.

The names an automation's actions refer to are resolved to ids just before it is sent:
the deployments of this apply exist by then. A create is not idempotent (the same body
twice makes two automations), so before a create is sent again after a lost answer, the
automation is looked for by name and content (see Api.call); a duplicate that still
slips through is found and deleted by the next plan (plan.automations).
"""

from __future__ import annotations

from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.model.items import Item
from flowfleet.plan.automations import (
    automation_name,
    live_automation,
    references,
    trigger_deployment,
)
from flowfleet.plan.change import Action, Change
from flowfleet.plan.items import differing
from flowfleet.server import wire
from flowfleet.server.api import Api, Lookup
from flowfleet.server.automations import Ref, resolve, with_ids

ACTION_FIELDS = ("actions", "actions_on_trigger", "actions_on_resolve")


async def apply_automation_change(api: Api, change: Change[Item, Item]) -> None:
    """Create, update or delete one automation (conflicts and unchanged ones: nothing)."""
    if change.action is Action.DELETE:
        assert change.live is not None
        await api.call("DELETE", f"/automations/{change.live.id}")
    elif change.action in (Action.CREATE, Action.UPDATE):
        item = change.desired
        assert item is not None
        ids = await _ids(api, item)
        body = _body(item, ids)
        if change.action is Action.UPDATE:
            assert change.live is not None
            await api.call("PUT", f"/automations/{change.live.id}", wire.AutomationUpdate(**body))
        else:
            owner = _owner(item, ids)
            create = wire.AutomationCreate(**body, owner_resource=owner)
            await api.call("POST", "/automations/", create, lookup=_created(api, item, ids))


async def _ids(api: Api, item: Item) -> dict[Ref, str]:
    refs = set(references(item))
    ids = await resolve(api, refs)
    missing = sorted(refs - ids.keys())
    if missing:
        named = ", ".join(f"{kind.replace('_', ' ')} '{name}'" for kind, name in missing)
        raise FlowfleetError(f"not found on the server: {named}")
    return ids


def _body(item: Item, ids: dict[Ref, str]) -> dict[str, Any]:
    fields = dict(item.fields)
    for field in ACTION_FIELDS:
        fields[field] = with_ids(fields.get(field, ()), ids)
    return {"name": automation_name(item), **fields}


def _owner(item: Item, ids: dict[Ref, str]) -> str | None:
    if item.kind != "trigger":
        return None
    return f"prefect.deployment.{ids[('deployment', trigger_deployment(item))]}"


def _created(api: Api, item: Item, ids: dict[Ref, str]) -> Lookup:
    """The look-up of a create: an automation of that name with every declared field."""
    names = {id_: name for (_, name), id_ in ids.items()}

    async def lookup() -> dict[str, Any] | None:
        body = wire.AutomationsFilter(
            automations=wire.AutomationFilter(name=wire.AnyOf(any_=[automation_name(item)]))
        )
        for found in await api.read_all("/automations/filter", body, wire.Automation):
            live = live_automation(found.model_dump(), names)
            if live.key == item.key and not differing(item, live):
                return {"id": found.id}
        return None

    return lookup
