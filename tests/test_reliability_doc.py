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


def test_recorded_lost_answers_cover_every_write_kind_without_duplicates() -> None:
    recorded = json.loads(figures.FIGURES.read_text())
    kinds = figures.lost_by_kind(recorded)
    every_kind = {
        "flow",
        "deployment",
        "schedule",
        "work_pool",
        "work_queue",
        "variable",
        "concurrency_limit",
        "block",
        "block_type",
        "lock",
        "ledger",
        "generation",
    }
    assert set(kinds) == every_kind and min(kinds.values()) >= 20, kinds
    assert figures.lost_duplicates(recorded) == 0
    assert recorded["lost_bulk"]["deployments"] >= 200 and recorded["lost_bulk"]["exit_code"] == 0
    deadline = recorded["deadline"]
    assert deadline["exit_code"] == 1 and deadline["seconds"] < deadline["timeout"] + 3
    two = recorded["two_environments"]
    assert two["prod_done"] == two["declared"]
    assert two["dev_done"] + two["dev_failed"] + two["dev_not_attempted"] == two["declared"]
