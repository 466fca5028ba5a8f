"""Parameter descriptions from Google-style docstrings, parsed the way griffe does it for
Prefect."""

from __future__ import annotations

import inspect
import re

_SECTION = re.compile(r"^(?P<type>[\w][\s\w-]*):(\s+(?P<title>[^\s].*))?\s*$", re.IGNORECASE)
_PARAMETER_SECTIONS = {"args", "arguments", "params", "parameters"}


def parameter_docs(docstring: str | None) -> dict[str, str]:
    """Parameter descriptions from the "Args:" section, as griffe's Google parser finds them.

    Prefect uses griffe, which flowfleet must not import; this follows griffe's rules for
    sections (blank line above, indented lines below, code fences skipped) and items
    (`name (type): text`, continuation lines indented further). The last section wins.
    """
    if not docstring:
        return {}
    lines = inspect.cleandoc(docstring.rstrip()).split("\n")
    docs: dict[str, str] = {}
    index, in_code = 0, False
    while index < len(lines):
        line = lines[index]
        fence = line.lstrip(" ").startswith("```")
        if in_code or fence:
            in_code = in_code != fence
        elif ":" in line and (match := _SECTION.match(line)) and _starts_section(lines, index):
            items, index = _block_items(lines, index + 1)
            found = _parameter_items(items)
            if match["type"].lower() in _PARAMETER_SECTIONS and found:
                docs = found
        index += 1
    return docs


def _starts_section(lines: list[str], index: int) -> bool:
    def blank(i: int) -> bool:
        return i < len(lines) and not lines[i].strip()

    def indented(i: int) -> bool:
        return i < len(lines) and not blank(i) and lines[i].startswith(" ")

    if not (indented(index + 1) or indented(index + 2)):
        return False
    return (index == 0 or blank(index - 1)) and not (indented(index + 2) and blank(index + 1))


def _block_items(lines: list[str], start: int) -> tuple[list[list[str]], int]:
    """The items of the indented block from `start`, and the index of its last line."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    indent = len(lines[index]) - len(lines[index].lstrip()) if index < len(lines) else 0
    if indent == 0:
        return [], index - 1
    items = [[lines[index][indent:]]]
    index += 1
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            items[-1].append("")
        elif line.startswith(" " * indent * 2):
            items[-1].append(line[indent * 2 :])
        elif line.startswith(" " * (indent + 1)):
            items[-1].append(line.lstrip())
        elif line.startswith(" " * indent):
            items.append([line[indent:]])
        else:
            break
        index += 1
    return items, index - 1


def _parameter_items(items: list[list[str]]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for first, *rest in items:
        if ":" not in first:
            continue
        name, description = first.split(":", 1)
        if "(" in name and name.endswith(")"):
            name = name.split("(", 1)[0].strip()
        docs[name] = "\n".join([description.lstrip(), *rest]).rstrip("\n")
    return docs
