"""Duplicate keys in a prefect.yaml: Prefect reads such a file (PyYAML keeps the last value),
so `flowfleet import` keeps the last one too and warns at both lines. (flowfleet's own config
keeps refusing duplicate keys: there, one of the two is a mistake waiting to happen.)

The earlier occurrences are blanked out of the text (spaces, newlines kept), so every other
value keeps its line and column for the messages that follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True)
class Duplicate:
    """A key given twice in one mapping: where first (dropped) and last (kept)."""

    key: str
    first: tuple[int, int]  # line, column (1-based)
    last: tuple[int, int]


def drop_earlier_duplicates(text: str) -> tuple[str, list[Duplicate]]:
    """The text with the earlier occurrences of duplicate keys blanked, and those found.

    Text that PyYAML cannot compose is returned unchanged (the loader reports it)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return text, []
    found: list[tuple[Node, Node, Node, bool]] = []
    _walk(root, found, set())
    if not found:
        return text, []
    chars = list(text)
    duplicates = []
    for first, value, last, flow in found:
        end = _entry_end(text, value, flow=flow)
        for i in range(first.start_mark.index, end):
            if chars[i] != "\n":
                chars[i] = " "
        duplicates.append(Duplicate(str(first.value), _mark(first), _mark(last)))
    return "".join(chars), duplicates


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: Node | None, found: list[tuple[Node, Node, Node, bool]], seen: set[int]) -> None:
    if node is None or id(node) in seen:  # an alias points at a node already walked
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        last: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key.value, str) else None
            if name is not None and key.tag != "tag:yaml.org,2002:merge":
                if name in last:
                    found.append((*last[name], key, bool(node.flow_style)))
                last[name] = (key, value)
            _walk(value, found, seen)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _walk(item, found, seen)


def _entry_end(text: str, value: Node, *, flow: bool) -> int:
    """Where the dropped entry ends: after its value (and, in a flow mapping, its comma)."""
    end = value.end_mark.index
    if not flow:
        return end
    probe = end
    while probe < len(text) and text[probe] in " \t":
        probe += 1
    return probe + 1 if probe < len(text) and text[probe] == "," else end
