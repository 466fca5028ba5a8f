"""docs/reliability.md's figures are those recorded by the last run of the fault tests
(tests/faults/figures.json, written by `python -m tests.faults.figures update`)."""

from __future__ import annotations

import json

from tests.faults import figures


def test_doc_figures_match_the_recorded_run() -> None:
    recorded = json.loads(figures.FIGURES.read_text())
    assert figures.doc_block(figures.DOC.read_text()) == figures.table(recorded)


def test_recorded_run_shows_convergence_and_no_loss() -> None:
    recorded = json.loads(figures.FIGURES.read_text())
    kill, proxy = recorded["sigkill"], recorded["proxy"]
    assert recorded["bad_inputs"] == figures.bad_inputs()  # the cases as they are now
    assert kill["done"] + kill["failed"] + kill["not_attempted"] == kill["declared"]
    assert kill["missing"] == kill["duplicates"] == proxy["missing"] == proxy["duplicates"] == 0
    assert proxy["retries_reported"] == proxy["retries_expected"] > 0
    assert proxy["min_wait_after_429"] >= 0.99
    assert recorded["refused"]["writes"] == 0
