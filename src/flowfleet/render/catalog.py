"""Inspect each entrypoint once per config file, remembering failures as messages."""

from __future__ import annotations

from pathlib import Path

from flowfleet.flows.inspect import EntrypointError, Flow, inspect_flow
from flowfleet.model.resources import Deployment
from flowfleet.render.deployments import default_flow_name


class FlowCatalog:
    """The flows of one project folder, inspected lazily and once each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._flows: dict[str, Flow | str] = {}

    def _get(self, entrypoint: str) -> Flow | str:
        if entrypoint not in self._flows:
            try:
                self._flows[entrypoint] = inspect_flow(self.root, entrypoint)
            except EntrypointError as exc:
                self._flows[entrypoint] = str(exc)
        return self._flows[entrypoint]

    def flow_name(self, entrypoint: str) -> str:
        """The flow's name, or the one Prefect would derive if the file cannot be read."""
        found = self._get(entrypoint)
        return found.name if isinstance(found, Flow) else default_flow_name(entrypoint)

    def error(self, entrypoint: str) -> str | None:
        """Why the entrypoint cannot be used, or None."""
        found = self._get(entrypoint)
        return found if isinstance(found, str) else None

    def flow(self, entrypoint: str) -> Flow:
        found = self._get(entrypoint)
        assert isinstance(found, Flow), found
        return found

    def flow_of(self, deployment: Deployment) -> Flow | None:
        """The deployment's flow, or None if its entrypoint cannot be used (an error of
        its own)."""
        found = self._get(deployment.entrypoint)
        return found if isinstance(found, Flow) else None
