"""The Prefect API URL and key in force, read the way Prefect 3 reads them, without
importing Prefect (`import prefect.settings` costs about two seconds).

Prefect's settings (`settings_customise_sources` in `prefect/settings/base.py`, and
`prefect/settings/sources.py`) take `api.url` and `api.key` from the first of these that
sets them; a value set to "" counts (it hides the sources below it):

1. the process environment: `PREFECT_API_URL`, `PREFECT_API_KEY` (names in any case);
2. `.env` in the current directory (read with python-dotenv, as pydantic-settings does);
3. `prefect.toml` in the current directory: `url` and `key` of its `[api]` table;
4. `pyproject.toml` in the current directory: `[tool.prefect.api]`;
5. the active profile: `PREFECT_PROFILE` (from the environment only), else the file's
   `active`; a profile that is not in the file means Prefect's default profile. The
   profiles file is `PREFECT_PROFILES_PATH` (the environment, else `.env`), else
   `profiles_path` in `prefect.toml`, then in `[tool.prefect]` of `pyproject.toml`, else
   `$PREFECT_HOME/profiles.toml` (PREFECT_HOME from the environment only), else
   `~/.prefect/profiles.toml` when it exists, else the profiles that come with Prefect.
   When that file does not exist, Prefect's default profile applies; when it is not
   valid TOML, no profile does (Prefect warns and goes on). Under `PREFECT_TEST_MODE`
   (or its aliases) no profile is read.

Paths are taken as Prefect takes them: relative to the current directory, `~` not
expanded. tests/test_prefect_settings.py checks each rule against the installed Prefect.

One rule depends on the installed versions (read from package metadata, as in
`flows/prefect_rules.py`): Prefect before 3.6.28 passes its `.env` options to
pydantic-settings by position, and pydantic-settings 2.14 added a parameter before them
(Prefect issue #21664, fixed in 3.6.28.dev5). Such a Prefect with such a pydantic-settings
matches `.env` names case-sensitively as `PREFECT_API_url` and `PREFECT_API_key`: in
effect it reads no API URL or key from `.env` (`dotenv_names_shifted`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from flowfleet.errors import ConfigError, Location

if sys.version_info >= (3, 11):
    import tomllib

    TomlError = tomllib.TOMLDecodeError
    toml_loads = tomllib.loads
else:  # Prefect reads TOML with `toml` there (one of its dependencies)
    import toml

    TomlError = toml.TomlDecodeError
    toml_loads = toml.loads

TEST_MODE = (
    "PREFECT_TEST_MODE",
    "PREFECT_UNIT_TEST_MODE",
    "PREFECT_TESTING_UNIT_TEST_MODE",
    "PREFECT_TESTING_TEST_MODE",
)
DOTENV_BY_NAME_SINCE = Version("3.6.28.dev5")  # Prefect passes `.env` options by name
DOTENV_FILTERING_SINCE = Version("2.14.0")  # pydantic-settings' new positional parameter
_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
Table = Mapping[str, Any]


@dataclass(frozen=True)
class Setting:
    """One setting's value and where it came from (`PREFECT_API_URL in .env`)."""

    value: str = field(repr=False)
    source: str


@dataclass(frozen=True)
class PrefectApi:
    """The API URL and key of Prefect's settings; None where nothing sets them."""

    url: Setting | None
    key: Setting | None
    profile: str  # the profile read (or none, and why), in words for messages


def read_prefect_api() -> PrefectApi:
    """The API URL and key the Prefect settings in force give, from the process
    environment and the current directory. A settings file that Prefect would fail on
    raises a ConfigError naming it (and its line and column)."""
    environ = dict(os.environ)
    dotenv = _dotenv(Path(".env"))
    prefect_toml = _toml(Path("prefect.toml"))
    pyproject = _toml(Path("pyproject.toml"))
    tool = _table(_table(pyproject, "tool", "pyproject.toml"), "prefect", "pyproject.toml [tool]")
    profile = _Profile.read(environ, dotenv, prefect_toml, tool)
    layers = _Layers(
        environ={name.lower(): value for name, value in environ.items()},
        dotenv=dotenv if dotenv_names_shifted() else {k.lower(): v for k, v in dotenv.items()},
        prefect_toml=_table(prefect_toml, "api", "prefect.toml"),
        pyproject=_table(tool, "api", "pyproject.toml [tool.prefect]"),
        profile=profile,
    )
    return PrefectApi(layers.first("url"), layers.first("key"), profile.described)


@dataclass(frozen=True)
class _Layers:
    """The sources of `api.url` and `api.key`, highest first."""

    environ: Table
    dotenv: Table
    prefect_toml: Table
    pyproject: Table
    profile: _Profile

    def first(self, name: str) -> Setting | None:
        variable = f"PREFECT_API_{name.upper()}"
        shifted = dotenv_names_shifted()
        in_dotenv = f"PREFECT_API_{name}" if shifted else variable
        for value, source in (
            (self.environ.get(variable.lower()), f"{variable} in the environment"),
            (self.dotenv.get(in_dotenv if shifted else variable.lower()), f"{in_dotenv} in .env"),
            (self.prefect_toml.get(name), f"[api] {name} in prefect.toml"),
            (self.pyproject.get(name), f"[tool.prefect.api] {name} in pyproject.toml"),
        ):  # fmt: skip
            if value is not None:
                return Setting(_string(value, source), source)
        return self.profile.setting(variable)


@functools.cache
def dotenv_names_shifted() -> bool:
    """Whether the installed Prefect and pydantic-settings read `.env` names shifted
    (see the module docstring)."""
    prefect = _version("prefect") or _version("prefect-client")
    return names_shifted(prefect, _version("pydantic-settings"))


def names_shifted(prefect: Version | None, pydantic_settings: Version | None) -> bool:
    """Whether this Prefect with this pydantic-settings reads `.env` names shifted."""
    if prefect is None or pydantic_settings is None:
        return False
    return prefect < DOTENV_BY_NAME_SINCE and pydantic_settings >= DOTENV_FILTERING_SINCE


def _version(distribution: str) -> Version | None:
    try:
        return Version(metadata.version(distribution))
    except (metadata.PackageNotFoundError, InvalidVersion):
        return None


@dataclass(frozen=True)
class _Profile:
    """The active profile's settings (ProfileSettingsTomlLoader in Prefect), and which
    profile that is, in words, for messages."""

    settings: Table
    name: str
    path: Path | None
    described: str

    @classmethod
    def read(cls, environ: Table, dotenv: Table, prefect_toml: Table, tool: Table) -> _Profile:
        if any(environ.get(name) for name in TEST_MODE):
            return cls({}, "", None, "no profile: PREFECT_TEST_MODE is set")
        path = _profiles_path(environ, dotenv, prefect_toml, tool)
        if not path.exists():
            return cls._default(f"there is no {path}")
        try:
            data = _read_toml(path)
        except TomlError as exc:  # Prefect warns and reads no profile at all
            return cls({}, "", path, f"no profile: {path} is not valid TOML ({exc})")
        name = environ.get("PREFECT_PROFILE") or data.get("active")
        profiles = data.get("profiles", {})
        if not name or not isinstance(profiles, dict) or name not in profiles:
            return cls._default(
                f"{path} has no profile {name!r}" if name else f"no active in {path}"
            )
        return cls(_table(profiles, name, str(path)), name, path, f"profile {name!r} of {path}")

    @classmethod
    def _default(cls, why: str) -> _Profile:
        """The active profile of the profiles that come with Prefect (no URL, no key)."""
        path = _bundled_profiles()
        data = _read_toml(path) if path is not None else {}
        name = data.get("active", "ephemeral")
        settings = data.get("profiles", {}).get(name, {})
        return cls(settings, name, path, f"Prefect's default profile {name!r}: {why}")

    def setting(self, variable: str) -> Setting | None:
        value = self.settings.get(variable)
        if value is None:
            return None
        source = f"{variable} in profile '{self.name}' of {self.path}"
        return Setting(_string(value, source), source)


def _profiles_path(environ: Table, dotenv: Table, prefect_toml: Table, tool: Table) -> Path:
    """Prefect's `_get_profiles_path` (prefect/settings/sources.py)."""
    for value, source in (
        (environ.get("PREFECT_PROFILES_PATH"), "PREFECT_PROFILES_PATH in the environment"),
        (dotenv.get("PREFECT_PROFILES_PATH"), "PREFECT_PROFILES_PATH in .env"),
        (prefect_toml.get("profiles_path"), "profiles_path in prefect.toml"),
        (tool.get("profiles_path"), "[tool.prefect] profiles_path in pyproject.toml"),
    ):
        if value:
            return Path(_string(value, source))
    if environ.get("PREFECT_HOME"):
        return Path(environ["PREFECT_HOME"]) / "profiles.toml"
    home = Path.home() / ".prefect" / "profiles.toml"
    return home if home.exists() else (_bundled_profiles() or home)


def _bundled_profiles() -> Path | None:
    """The profiles file that comes with Prefect, found without importing Prefect."""
    spec = importlib.util.find_spec("prefect")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "settings" / "profiles.toml"
        if path.is_file():
            return path
    return None


def _dotenv(path: Path) -> dict[str, str | None]:
    if not (path.is_file() or path.is_fifo()):
        return {}
    from dotenv import dotenv_values

    return dict(dotenv_values(path))


def _toml(path: Path) -> dict[str, Any]:
    """A TOML settings file of the current directory: Prefect fails on one that is not
    valid, and so does this, saying where."""
    if not path.is_file():
        return {}
    try:
        return _read_toml(path)
    except TomlError as exc:
        at = _AT.search(str(exc))
        raise ConfigError(
            f"not valid TOML: {_AT.sub('', str(exc))}; Prefect reads its settings from this "
            "file (and fails on it too): fix it, or run flowfleet from another directory",
            Location(str(path), int(at[1]), int(at[2])) if at else Location(str(path), 1, 1),
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = toml_loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read this Prefect settings file ({exc}); fix or remove it"
        ) from None
    return data


def _table(data: Table, key: str, where: str) -> Table:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: '{key}' is a {type(value).__name__}, where Prefect reads a table of "
            "settings; make it a table or remove it"
        )
    return value


def _string(value: Any, source: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"the Prefect setting {source} is a {type(value).__name__}; Prefect reads a "
            "string there: quote it"
        )
    return value
