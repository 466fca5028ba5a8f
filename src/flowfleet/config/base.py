"""The base of every config model, and the text type that keeps numbers as written."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from flowfleet.config.document import YamlFloat, YamlInt


class Strict(BaseModel):
    """Unknown keys are errors; models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def number_as_written(value: Any) -> Any:
    """`version: 1.10` means the text "1.10", not the float 1.1."""
    if isinstance(value, YamlInt | YamlFloat):
        return value.source
    return value


Text = Annotated[str, BeforeValidator(number_as_written)]
