"""Prefect block types (and other classes of Prefect's packages) as parameter types.

A parameter annotated with a class imported from `prefect.blocks.*`, `prefect.filesystems`
or a Prefect collection (`prefect_aws`, `prefect_gcp`, ...) gets, from Prefect, a `$ref` to
that class's schema and its `definitions` (for a block: `block_type_slug`,
`block_schema_references`, `secret_fields`, ...), from which the UI makes its block picker.
Those schemas are written by code (`Block.model_json_schema` hooks), so flowfleet cannot
rebuild them from source. Only when a flow uses such a class, it asks the installed package
in a subprocess (flowfleet itself never imports prefect: `import prefect` takes about two
seconds) and caches the answer on disk, keyed by the installed versions of Prefect and of
the collection, under FLOWFLEET_CACHE_DIR (the same folder as the default base job
templates). The answer is the class's definitions as pydantic makes them for Prefect's own
schema generator; the class then stands in the parameter schema as a type whose JSON schema
is that definition (schema.py puts its nested definitions next to it).

Where the collection is not installed, or the class makes no `$ref` (not a model), nothing
is known: the parameter gets `{}`, as Prefect gives where it cannot import the class.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic_core import core_schema

from flowfleet.config.cache import cache_dir

MARK = "__flowfleet_ref__"  # "$ref" inside a stand-in's definition (pydantic would chase it)
_TIMEOUT = 120  # seconds for the subprocess that imports Prefect and the collection


@dataclass(frozen=True)
class BlockReference:
    """A `{"$ref": ...}` run parameter value: Prefect loads the block document it names
    (Block.load_from_ref) before it validates the parameters."""

    ref: object


def is_candidate(module: str) -> bool:
    """Whether a class imported from `module` may be a block type worth asking about."""
    top = module.partition(".")[0]
    return (
        module == "prefect.blocks"
        or module.startswith("prefect.blocks.")
        or module == "prefect.filesystems"
        or (top.startswith("prefect_") and top != "prefect_safe_namespace_loader")
    )


def stand_in(module: str, name: str) -> type | None:
    """The type that stands for `module.name` in a parameter schema, or None when the
    installed packages do not make it a model (or the collection is not installed)."""
    versions = _versions(module)
    if versions is None:
        return None
    answer = _answer(module, name, versions)
    return None if answer is None else _stand_in_class(json.dumps(answer, sort_keys=True))


def nested_definitions(definition: dict[str, Any]) -> dict[str, Any]:
    """The definitions a stand-in's own definition refers to (read from its marker)."""
    found = definition.get(MARK + "definitions")
    return found if isinstance(found, dict) else {}


def unmark(schema: Any) -> Any:
    """The schema with the stand-ins' markers turned back into what Prefect has."""
    if isinstance(schema, dict):
        return {
            ("$ref" if key == MARK else key): unmark(value)
            for key, value in schema.items()
            if key != MARK + "definitions"
        }
    if isinstance(schema, list):
        return [unmark(item) for item in schema]
    return schema


def _versions(module: str) -> tuple[str, ...] | None:
    """The installed versions the answer depends on; None if the collection is missing."""
    prefect = _version("prefect") or _version("prefect-client")
    if prefect is None:
        return None
    top = module.partition(".")[0]
    if top == "prefect":
        return (f"prefect=={prefect}",)
    collection = _version(top.replace("_", "-")) or _distribution_version(top)
    return None if collection is None else (f"prefect=={prefect}", f"{top}=={collection}")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _distribution_version(top: str) -> str | None:
    names = metadata.packages_distributions().get(top, [])
    return _version(names[0]) if names else None


@functools.cache
def _answer(module: str, name: str, versions: tuple[str, ...]) -> dict[str, Any] | None:
    """The class's definitions, from the disk cache or the installed package."""
    path = _cache_path(module, name, versions)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = _ask(module, name)
        if cached is None:  # the subprocess failed: ask again next time
            return None
        _write(path, cached)
    return cached if isinstance(cached, dict) and cached.get("name") else None


def _cache_path(module: str, name: str, versions: tuple[str, ...]) -> Path:
    key = "\n".join([f"{module}:{name}", *versions, f"python {sys.version_info[:2]}"])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "blocks" / f"{module}.{name}-{digest}.json"


def _write(path: Path, answer: dict[str, Any]) -> None:
    try:  # best effort: a read-only home only costs speed
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(answer, sort_keys=True), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass


# Run with the same interpreter: the class's schema as pydantic makes it for Prefect's
# generator (parameter_schema: GenerateEmptySchemaForUserClasses, "#/definitions/{model}").
_SCRIPT = """
import importlib, json, sys, warnings
warnings.simplefilter("ignore")
import pydantic
from prefect._internal.pydantic.schemas import GenerateEmptySchemaForUserClasses


def answer(module, name):
    try:
        cls = getattr(importlib.import_module(module), name)
        model = pydantic.create_model(
            "P", __config__=pydantic.ConfigDict(arbitrary_types_allowed=True), x=(cls, ...)
        )
        schema = pydantic.TypeAdapter(model).json_schema(
            by_alias=True,
            ref_template="#/definitions/{model}",
            schema_generator=GenerateEmptySchemaForUserClasses,
        )
    except Exception:
        return {}
    ref = schema["properties"]["x"].get("$ref", "")
    if not ref.startswith("#/definitions/") or not isinstance(cls, type):
        return {}
    return {
        "name": ref.removeprefix("#/definitions/"),
        "ref": f"{cls.__module__}.{cls.__qualname__}",
        "definitions": schema.get("$defs", {}),
    }


pairs = zip(sys.argv[1::2], sys.argv[2::2])
print(json.dumps([answer(module, name) for module, name in pairs]))
"""


def _ask(module: str, name: str) -> dict[str, Any] | None:
    """The installed package's answer ({} when the class is not a model), None on failure."""
    return _ask_many([(module, name)])[0]


def _ask_many(pairs: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
    """The answers for several classes, from one subprocess (Prefect is imported once)."""
    environment = {**os.environ, "PREFECT_LOGGING_LEVEL": "ERROR", "DO_NOT_TRACK": "1"}
    arguments = [part for pair in pairs for part in pair]
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT, *arguments],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            env=environment,
            check=False,
        )
        answers = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return [None] * len(pairs)
    if done.returncode != 0 or not isinstance(answers, list) or len(answers) != len(pairs):
        return [None] * len(pairs)
    return [answer if isinstance(answer, dict) else None for answer in answers]


def prefetch(pairs: list[tuple[str, str]]) -> None:
    """Ask, in one subprocess, about the classes of a flow's annotations not cached yet."""
    missing: dict[tuple[str, str], Path] = {}
    for module, name in dict.fromkeys(pairs):
        versions = _versions(module) if is_candidate(module) else None
        path = _cache_path(module, name, versions) if versions is not None else None
        if path is not None and not path.is_file():
            missing[(module, name)] = path
    if len(missing) < 2:
        return  # one class: asked when it is evaluated
    for (module, name), answer in zip(missing, _ask_many(list(missing)), strict=True):
        if answer is not None:
            _write(missing[(module, name)], answer)


@functools.cache
def _stand_in_class(answer_json: str) -> type:
    """A type whose schema is the class's definition, under the name pydantic gives it."""
    answer = json.loads(answer_json)
    definitions: dict[str, Any] = answer["definitions"]
    name: str = answer["name"]
    own = _marked(definitions[name])
    own[MARK + "definitions"] = _marked({k: v for k, v in definitions.items() if k != name})
    is_block = "block_type_slug" in definitions[name]

    def validate(value: object) -> object:
        if isinstance(value, BlockReference | dict):
            return value
        what = "a block document reference or the block's fields" if is_block else "an object"
        raise ValueError(f"expected {what}")

    def core(cls: type, source: object, handler: object) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(validate, ref=f"{answer['ref']}:0")

    def json_schema(cls: type, schema: object, handler: object) -> dict[str, Any]:
        return copy.deepcopy(own)

    module, _, qualname = answer["ref"].rpartition(".")
    namespace = {
        "__module__": module,
        "__qualname__": qualname,
        "__get_pydantic_core_schema__": classmethod(core),
        "__get_pydantic_json_schema__": classmethod(json_schema),
        "is_block": is_block,
    }
    return type(name, (), namespace)


def _marked(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {(MARK if key == "$ref" else key): _marked(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_marked(item) for item in schema]
    return schema
