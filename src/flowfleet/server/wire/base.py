"""The two kinds of wire model: what flowfleet sends and what it reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Request(BaseModel):
    """A request body (or part of one): unknown fields are a bug, only set fields are sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON sent: the fields that were set, None included when set."""
        return self.model_dump(mode="json", exclude_unset=True)


class Response(BaseModel):
    """What flowfleet reads of an answer: servers add fields, older ones omit some."""

    model_config = ConfigDict(extra="ignore", frozen=True)
