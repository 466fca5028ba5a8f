"""A converted config as flowfleet.yaml text: block style, lists indented under their key,
multi-line texts as literal blocks, keys in the order they were built."""

from __future__ import annotations

from typing import Any

import yaml

_HEADER = (
    # the same editor hint as `flowfleet init` writes (see the README)
    "# yaml-language-server: $schema=flowfleet.schema.json\n"
    "# Converted from {source} by `flowfleet import`; check it with `flowfleet validate`.\n"
)
_ENVIRONMENT = (
    "# '{environment}' has no api_url: like prefect deploy, it uses the Prefect settings in\n"
    "# force (PREFECT_API_URL or the active profile). For more environments, add them with\n"
    "# api_url and api_key_env, and per-environment changes (see docs/config.md).\n"
)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_config(config: dict[str, Any], source: str) -> str:
    """flowfleet.yaml text for `config`, converted from the file named `source`."""
    sections = [_HEADER.format(source=source)]
    for key, value in config.items():
        text = yaml_block(key, value)
        if key == "environments":
            text = _ENVIRONMENT.format(environment=next(iter(value))) + text
        sections.append(text)
    return "\n".join(sections)


def yaml_block(key: str, value: Any) -> str:
    """`key: value` as block-style YAML, keys in the order they were built."""
    return yaml.dump(
        {key: value},
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
