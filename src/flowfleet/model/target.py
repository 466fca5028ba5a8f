"""Where an environment's Prefect API is: the connection the plan is made against."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """One environment's API: URL and key (the key is hidden from repr)."""

    environment: str
    url: str
    api_key: str | None = field(default=None, repr=False)
    local: bool = False
