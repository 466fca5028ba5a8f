"""YAML text → PyYAML nodes with their marks: libyaml where it gives what PyYAML gives.

PyYAML's libyaml loader (`yaml.CSafeLoader`) composes a config about five times faster
than its pure-Python one (`yaml.SafeLoader`), with nodes of the same classes and marks of
the same lines and columns. But the two parsers are not the same. Compared on the
invalid-config corpus and on random documents (tests/test_composer.py), libyaml:

- accepts tabs inside plain scalars and between tokens, `|#` block scalar headers, some
  malformed tags (`!&x`), and `?` inside plain scalars of a flow collection
  (`{url: http://x?a=1}`), all of which PyYAML refuses;
- resolves a bare `!` tag differently;
- places some empty values elsewhere: in flow collections (`{a: }`), after `---`, and
  for explicit keys (`? a`);
- words its errors differently, and stops at 1,000 levels of nesting.

So libyaml composes only a text without tabs, byte-order marks, NEL, line or paragraph
separators, block scalar headers running into a comment, and `!` or `?` at the start of a
token; and its nodes are kept only when none is one of the above (an empty plain scalar
other than a block mapping's value or a block sequence's item; a plain scalar with `?` in
a flow collection). Any other text, and any text libyaml fails on, is composed again by
PyYAML's pure-Python loader: its nodes and its errors are what flowfleet uses, so no
message depends on whether libyaml is installed (`syntax_error` words them).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from flowfleet.errors import ConfigError, Location

# libyaml ≥ 0.2.5 refuses nesting deeper than 1,000 levels; an older one would recurse
# until the C stack overflows.
LIBYAML: Any = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else None
if LIBYAML is not None:
    from yaml import _yaml

    if tuple(_yaml.get_version()) < (0, 2, 5):
        LIBYAML = None

# Texts libyaml reads otherwise than PyYAML: tabs, byte-order marks, and NEL, line and
# paragraph separators (line breaks to both, but not to `_TOKEN_BREAKS` below); a block
# scalar header running into a comment. (Each is searched for alone: one alternation of
# them all is five times slower.)
_DIVERGING = [
    re.compile("[\t\ufeff\x85\u2028\u2029]"),
    re.compile("[|>][-+0-9]*#"),
]
_TAG_OR_KEY = re.compile("[!?]")  # at the start of a token: a tag, or an explicit key
_TOKEN_BREAKS = " \t\r\n,[{"


class NotComposed:
    """What `compose_with_libyaml` gives when libyaml does not compose the text."""


NOT_COMPOSED = NotComposed()


def compose(text: str) -> Node | None:
    """The document's root node (None for an empty document); PyYAML's errors."""
    root = compose_with_libyaml(text)
    if isinstance(root, NotComposed):
        return yaml.compose(text, Loader=yaml.SafeLoader)
    return root


def compose_with_libyaml(text: str) -> Node | NotComposed | None:
    """libyaml's root node when libyaml is installed and its nodes are PyYAML's; else
    NOT_COMPOSED (never an error)."""
    if LIBYAML is None or _diverges(text):
        return NOT_COMPOSED
    try:
        root = yaml.compose(text, Loader=LIBYAML)
    except (yaml.YAMLError, UnicodeEncodeError, RecursionError):
        return NOT_COMPOSED
    if root is not None and _placed_differently(root):
        return NOT_COMPOSED
    return root


def syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    """PyYAML's message, rephrased for the common mistakes, at the most useful place."""
    problem = (exc.problem or "invalid YAML").strip()
    context = (exc.context or "").strip()
    at, opened = exc.problem_mark, exc.context_mark
    if "'\\t'" in problem or "'\t'" in problem:
        message = "a tab is used for indentation; YAML indents with spaces only"
    elif opened is not None and context.startswith("while parsing a flow ") and at is not None:
        bracket = "[" if "sequence" in context else "{"
        found = problem.replace("but got", "but found")
        where = f"on line {at.line + 1}, column {at.column + 1}"
        message, at = f"this '{bracket}' is never closed; {found} {where}", opened
    elif opened is not None and "quoted scalar" in context and "end of stream" in problem:
        quote = opened.buffer[opened.pointer] if opened.buffer else '"'
        message, at = f"this quoted string is never closed; add the closing '{quote}'", opened
    elif "<block end>" in problem and opened is not None and "block" in context:
        message = (
            "bad indentation: this line is indented less than the lines of the mapping it "
            f"belongs to (line {opened.line + 1}); line it up with them"
        )
    elif context and problem.startswith("but "):  # "expected X" + "but found Y"
        message = f"{context}, {problem}"
    else:
        message = f"{problem} ({context})" if context else problem
    mark = at or opened
    location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    return ConfigError(f"YAML syntax error: {message}", location)


def used_libyaml(text: str) -> bool:
    """Whether `compose` takes libyaml's nodes for `text` (for tests and benchmarks)."""
    return not isinstance(compose_with_libyaml(text), NotComposed)


def _diverges(text: str) -> bool:
    if any(pattern.search(text) for pattern in _DIVERGING):
        return True
    for found in _TAG_OR_KEY.finditer(text):
        start = found.start()
        if start == 0 or text[start - 1] in _TOKEN_BREAKS:
            return True
    return False


def _placed_differently(root: Node) -> bool:
    """Whether the tree has a node libyaml reads otherwise than PyYAML: an empty plain
    scalar anywhere but as a block mapping's value or a block sequence's item, or a plain
    scalar with `?` in a flow collection."""
    if isinstance(root, ScalarNode):
        return not root.style and root.value == ""
    seen: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        flow = bool(node.flow_style)  # type: ignore[attr-defined]
        if isinstance(node, MappingNode):
            children = [(key, True) for key, _ in node.value]
            children += [(value, False) for _, value in node.value]
        else:
            children = [(item, False) for item in node.value]
        for child, is_key in children:
            if not isinstance(child, ScalarNode):
                stack.append(child)
            elif not child.style and _diverging_scalar(child.value, flow, is_key):
                return True
    return False


def _diverging_scalar(value: str, flow: bool, is_key: bool) -> bool:
    if value == "":
        return flow or is_key
    return flow and "?" in value
