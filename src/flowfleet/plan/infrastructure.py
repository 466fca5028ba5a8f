"""Plan the infrastructure: create, update (field by field), delete owned, conflicts. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowfleet.model.items import KINDS, Item
from flowfleet.plan.change import WRITES, Action, Change, FieldChange
from flowfleet.plan.items import differing, masked

Key = tuple[str, str]
InfraChange = Change[Item, Item]  # key: (kind, name); kind: the resource's kind


def plan_infrastructure(
    desired: Sequence[Item],
    live: Mapping[Key, Item],
    owned: frozenset[Key],
    *,
    prune: bool,
    adopt: bool,
) -> tuple[list[InfraChange], list[str]]:
    """The changes in apply order (deletes last, in reverse order), and plan errors."""
    changes: list[InfraChange] = []
    errors: list[str] = []
    for item in desired:
        change = _change(item, live.get(item.key), _owned(item.key, owned), adopt)
        if change.action is Action.UPDATE and any(f.field == "type" for f in change.fields):
            errors.append(
                f"{change.name}: the server has type '{live[item.key].fields['type']}', the config "
                f"'{item.fields['type']}'; a work pool's type cannot change: delete the pool "
                "first or give it another name"
            )
        changes.append(change)
    if prune:
        declared = {item.key for item in desired}
        gone = [key for key in owned - declared if key in live]
        gone.sort(key=lambda k: (-KINDS.index(k[0]), k[1]))
        changes += [
            InfraChange(
                Action.DELETE, key, live=live[key], reason="no longer declared", kind=key[0]
            )
            for key in gone
        ]
    return changes, errors


def _owned(key: Key, owned: frozenset[Key]) -> bool:
    # The server creates each pool's "default" queue: it belongs to whoever owns the pool.
    if key[0] == "work_queue" and key[1].endswith("/default"):
        return ("work_pool", key[1].rsplit("/", 1)[0]) in owned
    return key in owned


def _change(item: Item, live: Item | None, owned: bool, adopt: bool) -> InfraChange:
    if live is None:
        return InfraChange(Action.CREATE, item.key, desired=item, kind=item.kind)
    if not owned and not adopt:
        return InfraChange(
            Action.CONFLICT,
            item.key,
            desired=item,
            live=live,
            reason="exists on the server but flowfleet does not own it; left alone "
            "(pass --adopt to take it over)",
            kind=item.kind,
        )
    fields = tuple(
        FieldChange(
            name, masked(item, name, live.fields.get(name)), masked(item, name, item.fields[name])
        )
        for name in differing(item, live)
    )
    action = Action.UPDATE if fields else Action.UNCHANGED
    return InfraChange(action, item.key, desired=item, live=live, fields=fields, kind=item.kind)


@dataclass(frozen=True)
class InfraPlan:
    """The infrastructure part of an environment's plan."""

    changes: tuple[InfraChange, ...] = ()
    errors: tuple[str, ...] = ()
    ledger: str = ""
    owned_before: frozenset[Key] = frozenset()
    register_types: tuple[str, ...] = ()  # block types to register from installed packages

    @property
    def has_changes(self) -> bool:
        return (
            any(c.action in WRITES for c in self.changes) or self.owned_after != self.owned_before
        )

    @property
    def owned_after(self) -> frozenset[Key]:
        """What the ledger lists once the plan is applied."""
        kept = {c.key for c in self.changes if c.action not in (Action.CONFLICT, Action.DELETE)}
        deleted = {c.key for c in self.changes if c.action is Action.DELETE}
        return frozenset((self.owned_before | kept) - deleted)
