"""libyaml composes a config only where it gives what PyYAML's pure-Python loader gives
(flowfleet.config.composer): the same nodes, tags, values and marks; every other text,
and every error, is PyYAML's own."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode

from bench.project import specs, write_flowfleet
from flowfleet.config import composer, document
from flowfleet.config.document import parse_document
from flowfleet.errors import ConfigError
from tests.conftest import yaml_loader
from tests.test_invalid_configs import CASES

pytestmark = pytest.mark.skipif(composer.LIBYAML is None, reason="PyYAML without libyaml")
ROOT = Path(__file__).resolve().parents[1]
PROPERTY = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Where libyaml and PyYAML's pure-Python loader part ways: libyaml alone would accept
# what PyYAML refuses, or give other nodes (see the module docstring of the composer).
DIVERGING = {
    "tab in a plain scalar": "a: b\tc\n",
    "tab between tokens": "? #\n  key\t- x",
    "block scalar header into a comment": "a: |#\n  x\n",
    "malformed tag": "!&!*a$",
    "question mark in a flow plain scalar": "a: {url: http://x?a=1}\n",
    "empty value in a flow mapping": "a: {b: }\n",
    "key without a value in a flow mapping": "{a: , b}\n",
    "empty document after ---": "---",
    "explicit key": "?",
    "bare tag": "!",
    "byte-order mark inside": "\n\ufeff:  ",
    "line separator before an explicit key": "\u2028#>? x:\u2028?  -",
}


def shape(node: Node | None, seen: dict[int, int] | None = None) -> Any:
    """What flowfleet reads of a node tree: classes, tags, values, start marks, flow
    style; a node reached again (an alias) as a reference to its first visit."""
    if node is None:
        return None
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, mark, node.style or None)
    flow = bool(node.flow_style)  # type: ignore[attr-defined]
    if isinstance(node, MappingNode):
        pairs = [(shape(k, seen), shape(v, seen)) for k, v in node.value]
        return ("map", node.tag, pairs, mark, flow)
    return ("seq", node.tag, [shape(item, seen) for item in node.value], mark, flow)


def python_compose(text: str) -> Any:
    """PyYAML's pure-Python loader: the node shape, or the error's text."""
    try:
        return shape(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        return f"error: {exc}"
    except RecursionError:
        return "error: too deep"


# ------------------------------------------------------------------------ texts to try

TOKENS = [*":-[]{},&*!|>'\"#%@`?\n\t ~$\\", "\r\n", "\r", "\x85", "\u2028", "\ufeff", "é"]
TOKENS += ["${X}", "<<", "key", "&a", "*a", "!!str", "!x", "---", "...", "\n  ", "\n- ", ": "]
TOKENS += ["? ", "a?b", "|-\n  ", ">+2\n  ", "%YAML 1.1\n", "1.5", "0x1f", "null", "😀"]
SOUP = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["", "x: y", "- z", "#c", "a?b", "multi\nline\n", "tab\there", "1.10"]),
)
DATA = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
EDITS = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from([*TOKENS, ""]), st.integers(0, 3)), max_size=3
)


@st.composite
def dumped(draw: st.DrawFn) -> str:
    """A document as PyYAML writes it (block, flow or mixed, in every quoting style),
    then mostly edited a little: a token inserted, a few characters removed."""
    text = yaml.safe_dump(
        draw(DATA),
        default_flow_style=draw(st.sampled_from([None, True, False])),
        default_style=draw(st.sampled_from([None, "'", '"'])),
        allow_unicode=draw(st.booleans()),
        width=draw(st.sampled_from([20, 80, 10**6])),
        explicit_start=draw(st.booleans()),
    )
    for where, token, cut in draw(EDITS):
        at = int(where * len(text))
        text = text[:at] + token + text[at + cut :]
    return text


TEXTS = st.one_of(SOUP, dumped(), st.text(string.printable, max_size=60))


# ------------------------------------------------------------------------ the property


@PROPERTY
@given(TEXTS)
@example("a: b\n")
@example("[" * 1_001 + "]" * 1_001)  # deeper than libyaml goes: PyYAML's own error
@example("a: &a [*a]")
@example("x: &x {a: 1}\ny: [*x, *x]")
@example("a:\n  - b:\n  - c: 1\n")
def test_libyaml_nodes_are_pythons(text: str) -> None:
    """Whenever flowfleet takes libyaml's nodes, they are the pure-Python loader's."""
    composed = composer.compose_with_libyaml(text)
    if composer.used_libyaml(text):
        assert shape(composed) == python_compose(text)


@PROPERTY
@given(TEXTS)
@example("a: {b: }\n")
@example("a: b\tc\n")
@example("deployments: [{name: '${X}'}]\n")
def test_documents_are_the_same_with_either_loader(text: str) -> None:
    """parse_document gives the same data, marks and variables, or the same error."""
    results = []
    for loader in ("libyaml", "python"):
        with yaml_loader(loader):
            try:
                document = parse_document(text.encode(), "f.yaml", environ={"X": "x"})
            except ConfigError as exc:
                results.append(str(exc))
            else:
                results.append((document.data, document.marks, document.key_marks, document.unset))
    assert results[0] == results[1]


@pytest.mark.parametrize("text", DIVERGING.values(), ids=DIVERGING.keys())
def test_where_libyaml_differs_the_pure_loader_composes(text: str) -> None:
    """Each divergence is real (libyaml alone gives something else), and guarded."""
    try:
        alone: Any = shape(yaml.compose(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as exc:
        alone = f"error: {exc}"
    assert alone != python_compose(text)
    assert not composer.used_libyaml(text)
    try:
        assert shape(composer.compose(text)) == python_compose(text)
    except yaml.YAMLError as exc:
        assert f"error: {exc}" == python_compose(text)


# ------------------------------------------------------------------------ where it is used


def test_libyaml_composes_the_examples_and_the_benchmark(tmp_path: Path) -> None:
    texts = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.yaml"))]
    texts.append(write_flowfleet(tmp_path, specs(20)).read_text())
    json.loads(texts[-1])  # the benchmark's config is JSON, all flow collections
    assert len(texts) >= 4
    assert all(composer.used_libyaml(text) for text in texts)


def test_libyaml_composes_most_of_the_invalid_corpus() -> None:
    """So that running the corpus with libyaml (tests/test_invalid_configs.py) tests it."""
    texts = [text for case in CASES for text in case.files.values()]
    used = sum(composer.used_libyaml(text) for text in texts)
    assert used >= 0.8 * len(texts), f"{used} of {len(texts)}"


# ------------------------------------------------------------------------ expansion check


@pytest.mark.parametrize("text", ["a: [1, 2, 3, 4, 5, 6]\nb: {c: [7, 8]}\n", "[[[[[[[[1]]]]]]]]"])
def test_a_document_without_anchors_is_counted_not_sized(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `&` nothing is shared, so parse_document only counts the nodes; past the
    limit it gives the error the full check gives, at the same place."""
    monkeypatch.setattr(document, "MAX_NODES", 8)
    with pytest.raises(ConfigError) as counted:
        parse_document(text.encode(), "f.yaml", environ={})
    with pytest.raises(ConfigError) as sized:
        document._check_expansion(yaml.compose(text, Loader=yaml.SafeLoader), "f.yaml")
    assert str(counted.value) == str(sized.value)
    monkeypatch.setattr(document, "MAX_NODES", 1_000)
    assert parse_document(text.encode(), "f.yaml", environ={}).data
