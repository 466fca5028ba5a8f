"""What every part of a conversion needs: the prefect.yaml document (for positions), the
ids of its build and push steps, and the warnings gathered so far."""

from __future__ import annotations

from typing import Any

from flowfleet.config.base import number_as_written
from flowfleet.config.document import DocPath, Document, YamlFloat, YamlInt
from flowfleet.config.load import ConfigWarning
from flowfleet.errors import ConfigError, Location
from flowfleet.interop.importer.templating import translate


class Context:
    """Conversion state; `warnings` keeps each distinct warning once, in order found."""

    def __init__(self, document: Document, step_ids: frozenset[str]) -> None:
        self.document = document
        self.step_ids = step_ids
        self._warnings: dict[ConfigWarning, None] = {}

    @property
    def warnings(self) -> tuple[ConfigWarning, ...]:
        return tuple(self._warnings)

    def warn(self, path: DocPath, message: str, *, key: bool = False) -> None:
        """A warning at the value (or, with `key`, the key) at `path`."""
        self._warnings[ConfigWarning(self.document.locate(path, key=key), message)] = None

    def warn_at(self, location: Location, message: str) -> None:
        """A warning at a position of the file."""
        self._warnings[ConfigWarning(location, message)] = None

    def error(self, path: DocPath, message: str) -> ConfigError:
        """A ConfigError at the value at `path`, to raise."""
        return ConfigError(message, self.document.locate(path))

    def data(
        self,
        path: DocPath,
        value: Any,
        *,
        in_pull_step: bool = False,
        in_job_variables: bool = False,
        in_run_parameters: bool = False,
    ) -> Any:
        """`value` as plain data with every string's placeholders translated."""
        flags = {
            "in_pull_step": in_pull_step,
            "in_job_variables": in_job_variables,
            "in_run_parameters": in_run_parameters,
        }
        if isinstance(value, str):
            translation = translate(value, self.step_ids, **flags)
            for note in translation.notes:
                self.warn(path, note)
            return translation.text
        if isinstance(value, dict):
            return {k: self.data((*path, k), v, **flags) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data((*path, i), v, **flags) for i, v in enumerate(value)]
        if isinstance(value, YamlInt):
            return int(value)
        if isinstance(value, YamlFloat):
            return float(value)
        return value

    def text(self, path: DocPath, value: Any, what: str) -> str | None:
        """A text field (a number counts as the text it is written as); None stays None."""
        value = number_as_written(value)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(path, f"{what} must be text, found {_describe(value)}")
        result: str = self.data(path, value)
        return result

    def mapping(self, path: DocPath, value: Any, what: str) -> dict[str, Any]:
        """A mapping field; null is an empty mapping."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"{what} must be a mapping, found {_describe(value)}")
        return value

    def boolean(self, path: DocPath, value: Any, what: str) -> bool | str | None:
        """A boolean field; a templated text stays text (with its placeholder warning)."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            result: str = self.data(path, value)
            return result
        raise self.error(path, f"{what} must be true or false, found {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"'{value}'"
