"""What flowfleet knows about a flow after reading its source: Flow, Signature, Parameter.

Plain frozen data: built by flows.py and flow_schema.py, read by flow_parameters.py.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pydantic

    from flowfleet.flows.prefect_rules import PrefectRules


@dataclass(frozen=True)
class Flow:
    """A Prefect flow, as read from its source file."""

    name: str
    function: str
    parameter_schema: dict[str, Any] = field(hash=False)  # never mutate: shared by a cache
    _signature: Signature | None = field(default=None, repr=False, compare=False, hash=False)
    # The model the flow validates run parameters with (None: `validate_parameters=False`).
    _model: type[pydantic.BaseModel] | None = field(
        default=None, repr=False, compare=False, hash=False
    )
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def notes(self) -> tuple[str, ...]:
        """What flowfleet could not read as Prefect would (for `validate --verbose`)."""
        libraries = self._signature.libraries if self._signature is not None else {}
        return tuple(
            f"parameter {name!r} of flow {self.name!r} is annotated with a type from"
            f" {library!r}, which flowfleet does not import; its schema is {{}}, as Prefect"
            f" makes it where {library!r} is not installed"
            if library != "prefect"
            else f"parameter {name!r} of flow {self.name!r} is annotated with a type from"
            " 'prefect' that the installed Prefect does not have as a block type or model;"
            " its schema is {}, as Prefect makes it where it cannot import the type"
            for name, library in libraries.items()
        )

    # The project modules read for it, as (path, mtime_ns, size): a change invalidates it.
    _files: tuple[tuple[str, int, int], ...] = field(
        default=(), repr=False, compare=False, hash=False
    )


@dataclass(frozen=True)
class Parameter:
    """One parameter of the flow function."""

    name: str
    kind: inspect._ParameterKind
    required: bool  # no default (never true for *args / **kwargs)


@dataclass(frozen=True)
class Signature:
    """What flowfleet knows about a flow function's parameters."""

    parameters: tuple[Parameter, ...]
    schema: dict[str, Any]
    fields: dict[str, Any]  # pydantic fields of the parameters, by their own names
    defaults: dict[str, Any]  # the defaults known without running code
    rules: PrefectRules  # the installed Prefect's rules the schema was built with
    # Parameters annotated with a type of an installed library, which flowfleet does not
    # import: parameter name -> library.
    libraries: dict[str, str] = field(default_factory=dict)
