"""schema: the JSON Schema of flowfleet.yaml, generated from the models."""

from __future__ import annotations

from typing import Any

from flowfleet.config.models import Config
from flowfleet.output.console import print_json


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the config format (committed as schema/flowfleet.schema.json)."""
    schema = Config.model_json_schema(mode="validation")
    schema["title"] = "flowfleet.yaml"
    return schema


def run_schema() -> int:
    print_json(config_schema())
    return 0
