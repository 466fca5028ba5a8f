"""Safe YAML → plain data, keeping the position of every node.

PyYAML's composer gives nodes with marks; we convert them ourselves so that every value
can be traced back to `file:line:column`, duplicate keys are errors, only plain YAML tags
are accepted (nothing is ever constructed from a `!!python/...` tag), alias expansion is
bounded, and `${VAR}` references are substituted from the process environment.

Nodes come from `composer.compose`: libyaml's where they are what PyYAML's own loader
gives, else (and for every error) PyYAML's pure-Python loader's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flowfleet.config import composer
from flowfleet.config.checks import shown
from flowfleet.errors import ConfigError, Location

DocPath = tuple[str | int, ...]

MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_FILE_BYTES = 16 * 1024 * 1024  # a config this big is a mistake; parsing it would take long
MAX_KEY_LENGTH = 1024  # as for YAML's plain keys; longer ones (`? key`) would flood messages

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_TAG_VALUES = {"int": "an integer", "float": "a number", "bool": "true or false"}
_VAR = re.compile(r"\$(\$?)\{([^}]*)\}")
_VAR_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


class YamlInt(int):
    """An int read from YAML that remembers how it was written (for string fields)."""

    source: str


class YamlFloat(float):
    """A float read from YAML that remembers how it was written (`1.10` stays `1.10`)."""

    source: str


@dataclass(frozen=True)
class UnsetVariable:
    """A `${VAR}` with no value and no default, and where it was used."""

    name: str
    path: DocPath
    location: Location


@dataclass
class Document:
    """One YAML file as plain data plus the position of each value and mapping key."""

    file: str
    data: Any
    marks: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    unset: list[UnsetVariable] = field(default_factory=list)
    substituted: set[DocPath] = field(default_factory=set)  # values that used ${VAR}

    def locate(self, path: DocPath, *, key: bool = False) -> Location:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        if key and path in self.key_marks:
            return self._location(self.key_marks[path])
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return self._location(mark)
        return Location(self.file, 1, 1)

    def _location(self, mark: tuple[int, int]) -> Location:
        return Location(self.file, mark[0], mark[1])


def read_document(path: Path, display: str | None = None) -> Document:
    """Read and parse `path`; every failure is a ConfigError with file:line:column."""
    file = display or str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"{file}: cannot read the file ({reason}); give the config file with -f FILE", None
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; a config file this big is "
            "a mistake (a generated or binary file?): give the right file with -f FILE",
            Location(file, 1, 1),
        )
    return parse_document(raw, file)


def parse_document(raw: bytes, file: str, environ: Mapping[str, str] | None = None) -> Document:
    """Parse YAML bytes from `file` (the name used in messages)."""
    text = _decode(raw, file)
    try:
        root = composer.compose(text)
    except yaml.MarkedYAMLError as exc:
        raise composer.syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", Location(file, 1, 1)) from None
    except RecursionError:
        raise _too_deep(text, file) from None
    if root is None or (isinstance(root, ScalarNode) and root.value == "" and _is_null(root)):
        what = "the file has no content, only comments" if text.strip() else "the file is empty"
        raise ConfigError(
            f"{what}; expected a mapping with 'deployments:' "
            "(and 'environments:' in the flowfleet format)",
            Location(file, 1, 1),
        )
    # Without an anchor (`&`) there is no alias: no node is shared, and the document
    # expands to its node count, which is far quicker to count than sizes to compute.
    if "&" in text or _count_nodes(root) > MAX_NODES:
        _check_expansion(root, file)
    document = Document(file=file, data=None)
    converter = _Converter(document, os.environ if environ is None else environ)
    document.data = converter.convert(root, ())
    return document


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; "
            "save the file as UTF-8",
            Location(file, line, column),
        ) from None


def _too_deep(text: str, file: str) -> ConfigError:
    """Where the nesting first goes deeper than MAX_DEPTH (PyYAML's composer recurses; its
    parser does not, so the events say where, whatever the stack depth was)."""
    depth = 0
    location = Location(file, 1, 1)
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            mark = event.start_mark
            if depth > MAX_DEPTH and mark is not None:  # where the converter would stop
                location = Location(file, mark.line + 1, mark.column + 1)
                break
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return ConfigError(f"nesting deeper than {MAX_DEPTH} levels; flatten the file", location)


def _check_expansion(root: Node, file: str) -> None:
    """Refuse alias bombs and recursive aliases before expanding anything: count the values
    the document expands to, sharing the count of each node reached through aliases."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    in_progress: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_NODES:
                raise ConfigError(
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(an alias expansion bomb?); simplify its anchors and aliases",
                    Location(file, node.start_mark.line + 1, node.start_mark.column + 1),
                )
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise ConfigError(
                "a recursive alias (an anchor used inside itself); flowfleet cannot expand it",
                Location(file, node.start_mark.line + 1, node.start_mark.column + 1),
            )
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _count_nodes(root: Node) -> int:
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, (MappingNode, SequenceNode)):
            stack.extend(_children(node))
    return count


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _is_null(node: ScalarNode) -> bool:
    return bool(node.tag == f"{_TAG}null")


class _Converter:
    """Walks composed nodes into plain data, recording marks and unset variables."""

    def __init__(self, document: Document, environ: Mapping[str, str]) -> None:
        self.document = document
        self.environ = environ
        self.constructor = yaml.SafeLoader("")
        self.visited = 0

    def convert(self, node: Node, path: DocPath) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise ConfigError(
                f"the document expands to more than {MAX_NODES:,} values "
                "(an alias expansion bomb?); simplify its anchors and aliases",
                self._location(node),
            )
        if len(path) > MAX_DEPTH:
            raise ConfigError(
                f"nesting deeper than {MAX_DEPTH} levels (or a recursive alias); flatten the file",
                self._location(node),
            )
        self.document.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self._check_tag(node, f"{_TAG}seq")
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _location(self, node: Node) -> Location:
        return Location(self.document.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise ConfigError(
                f"unsupported YAML tag '{node.tag.replace(_TAG, '!!')}'; flowfleet reads "
                "plain YAML only: remove the tag",
                self._location(node),
            )

    def _mapping(
        self, node: MappingNode, path: DocPath, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The mapping's keys and values; keys in `skip` (set by the mapping this one is
        merged into) are checked but not converted, so each path keeps its own position."""
        self._check_tag(node, f"{_TAG}map")
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merge: tuple[Node, Node] | None = None
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                if merge is not None:
                    line = merge[0].start_mark.line + 1
                    raise ConfigError(
                        f"duplicate merge key '<<' (first on line {line}); merge several "
                        "mappings with one key and a list: '<<: [*first, *second]'",
                        self._location(key_node),
                    )
                merge = (key_node, value_node)
                continue
            key = self._key(key_node)
            if key in first_seen:
                line = first_seen[key].start_mark.line + 1
                raise ConfigError(
                    f"duplicate key '{key}' (first defined on line {line}); YAML would keep "
                    "only one of them: remove or rename one",
                    self._location(key_node),
                )
            first_seen[key] = key_node
            if key in skip:
                continue
            mark = key_node.start_mark
            self.document.key_marks[(*path, key)] = (mark.line + 1, mark.column + 1)
            result[key] = self.convert(value_node, (*path, key))
        if merge is None:
            return result
        merged = self._merge_sources(merge[1], path, skip | frozenset(result))
        return {**merged, **result}

    def _merge_sources(self, node: Node, path: DocPath, skip: frozenset[str]) -> dict[str, Any]:
        """The merged mappings' keys that are not in `skip`; the first source wins."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        parts: list[dict[str, Any]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise ConfigError(
                    "a merge key '<<' must refer to a mapping (or a list of mappings)",
                    self._location(source),
                )
            parts.append(self._mapping(source, path, skip))
            skip = skip | frozenset(parts[-1])
        merged: dict[str, Any] = {}
        for part in reversed(parts):  # the order the keys had before
            merged.update(part)
        return merged

    def _key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise ConfigError(
                "a mapping key must be a plain scalar, not a list or mapping",
                self._location(node),
            )
        self._check_scalar_tag(node)
        if len(node.value) > MAX_KEY_LENGTH:
            raise ConfigError(
                f"a mapping key of {len(node.value):,} characters ({shown(node.value)}); keys "
                f"are names of at most {MAX_KEY_LENGTH:,} characters: shorten it",
                self._location(node),
            )
        return str(node.value)

    def _check_scalar_tag(self, node: ScalarNode) -> None:
        if node.tag not in _SCALAR_TAGS:
            self._check_tag(node, f"{_TAG}str")

    def _scalar(self, node: Node, path: DocPath) -> Any:
        assert isinstance(node, ScalarNode)
        self._check_scalar_tag(node)
        tag = node.tag.removeprefix(_TAG)
        if tag in ("str", "timestamp"):
            return self._substitute(str(node.value), path, node)
        try:
            value = self.constructor.construct_object(node)
        except (ValueError, IndexError, KeyError):  # `!!int x`, `!!float`, `!!bool maybe`
            raise ConfigError(
                f"{shown(node.value) if node.value else 'an empty value'} is not a valid "
                f"!!{tag}; remove the tag, or write {_TAG_VALUES.get(tag, 'a ' + tag)}",
                self._location(node),
            ) from None
        if tag == "int":
            number: YamlInt | YamlFloat = YamlInt(value)
        elif tag == "float":
            number = YamlFloat(value)
        else:
            return value
        number.source = str(node.value)
        return number

    def _substitute(self, text: str, path: DocPath, node: Node) -> str:
        if "$" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # `$${X}` is a literal `${X}`
                return match.group(0)[1:]
            body = _VAR_BODY.fullmatch(match.group(2))
            if body is None:
                raise ConfigError(
                    f"invalid variable reference {shown(match.group(0))}; expected ${{NAME}} or "
                    "${NAME:-default} with NAME made of letters, digits and '_'",
                    self._location(node),
                )
            name, default = body.group(1), body.group(2)
            self.document.substituted.add(path)
            value = self.environ.get(name)
            if value is not None and (value != "" or default is None):
                return value
            if default is not None:
                return default
            self.document.unset.append(UnsetVariable(name, path, self._location(node)))
            return match.group(0)

        result = _VAR.sub(replace, text)
        if "${" in _VAR.sub("", text):
            raise ConfigError(
                f"unclosed variable reference in {text[:60]!r}; expected ${{NAME}} "
                "(write $${ for a literal '${')",
                self._location(node),
            )
        return result
