"""flowfleet: deployments as code for Prefect.

The Python API is `flowfleet.sdk` (docs/python-api.md). Its names are also available
here, loaded on first use so that `flowfleet --help` imports neither prefect nor pydantic,
except `render`, `validate`, `plan` and `apply`, which are the pipeline's modules: use
`import flowfleet.sdk as ff` and `ff.plan(...)`.
"""

from __future__ import annotations

from typing import Any

from flowfleet._exports import SDK_NAMES
from flowfleet._version import __version__ as __version__


def __getattr__(name: str) -> Any:
    if name in SDK_NAMES:
        from flowfleet import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'flowfleet' has no attribute '{name}'")
