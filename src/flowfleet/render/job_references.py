"""What a worker reads from its Prefect server while it builds a job configuration, answered
from the config instead, so that `render --jobs` needs no server.

Prefect's templating resolves `{{ prefect.blocks.<type>.<name> }}` and
`{{ prefect.variables.<name> }}` through a client with three read methods; this class has
the same three, backed by the blocks and variables the config declares for the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowfleet.errors import FlowfleetError
from flowfleet.model.masking import MASK
from flowfleet.model.resources import Infrastructure


class UnknownOffline(FlowfleetError):
    """A reference whose value only the server knows."""


@dataclass(frozen=True)
class _BlockDocument:
    data: dict[str, Any]


@dataclass(frozen=True)
class _Variable:
    value: Any


class DeclaredReferences:
    """Stands in for the Prefect client in `BaseJobConfiguration.from_template_and_values`."""

    def __init__(self, infrastructure: Infrastructure, environment: str) -> None:
        self.infrastructure = infrastructure
        self.environment = environment

    async def read_block_document_by_name(self, name: str, block_type_slug: str) -> _BlockDocument:
        """The declared block's fields; values set from `${VAR}` are masked (never printed)."""
        for block in self.infrastructure.blocks:
            if (block.type, block.name) == (block_type_slug, name):
                secret = set(block.secret_fields)
                return _BlockDocument(
                    {k: MASK if k in secret else v for k, v in block.fields.items()}
                )
        raise UnknownOffline(
            f"block '{block_type_slug}/{name}' is not declared in the config for "
            f"{self.environment}: its fields are unknown offline; declare it under `blocks:`"
        )

    async def read_block_document(self, block_document_id: Any) -> _BlockDocument:
        raise UnknownOffline(
            f"block document id {block_document_id} is only known to the server; refer to the "
            "block by name instead: {{ prefect.blocks.<type>.<name> }}"
        )

    async def read_variable_by_name(self, name: str) -> _Variable:
        """The declared variable; an undeclared one stays a reference the worker resolves."""
        for variable in self.infrastructure.variables:
            if variable.name == name:
                return _Variable(variable.value)
        return _Variable(f"{{{{ prefect.variables.{name} }}}}")
