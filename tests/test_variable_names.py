"""The Prefect variable names of the ownership list, the lock and its generation. Pure."""

from __future__ import annotations

from flowfleet.model.target import Target
from flowfleet.server.ledger import ledger_name
from flowfleet.server.lock import Lease, generation_name, lock_name


def test_names_keep_only_what_a_variable_name_allows() -> None:
    assert (
        ledger_name("My Project", "dev/preview/pr-1") == "flowfleet__my_project__dev_preview_pr-1"
    )
    assert lock_name("My Project", "prod.eu") == "flowfleet_lock__my_project__prod_eu"
    lease = Lease(Target("dev", "http://x"), lock_name("a", "b"), "flowfleet:a/b", "me")
    assert generation_name(lease) == "flowfleet_generation__a__b"
