"""Where an environment's API is, offline: what resolve_target does without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowfleet.config.models import Environment
from flowfleet.server.connection import ConnectionError_, resolve_target


def test_a_stopped_local_server_is_only_started_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError_, match="flowfleet server start --env dev"):
        resolve_target(tmp_path, "dev", Environment(local=True), start_local=False)
    assert not (tmp_path / ".flowfleet").exists()  # nothing started, nothing written


def test_an_api_url_is_used_as_given(tmp_path: Path) -> None:
    environment = Environment(api_url="http://prefect:4200/api/")
    target = resolve_target(tmp_path, "prod", environment, start_local=False)
    assert (target.url, target.api_key, target.local) == ("http://prefect:4200/api", None, False)
