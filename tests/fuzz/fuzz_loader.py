"""Coverage-guided fuzzing of the config loader with atheris (libFuzzer).

    python tests/fuzz/fuzz_loader.py -runs=20000 -max_len=4096 [CORPUS_DIR]

Each input is a config file's bytes; loading it must succeed or raise a user error
(ConfigError, ValidationFailed). Anything else is a crash: atheris prints the input and
exits non-zero. Without a CORPUS_DIR, the configs of the tests/invalid/ cases are the seeds.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import tempfile
from pathlib import Path

import atheris
import yaml

with atheris.instrument_imports(include=["flowfleet", "yaml"]):
    from flowfleet.config.load import load_config
    from flowfleet.errors import ConfigError, ValidationFailed

FOLDER = Path(tempfile.mkdtemp(prefix="flowfleet-fuzz-"))
CONFIG = FOLDER / "flowfleet.yaml"


def test_one_input(data: bytes) -> None:
    CONFIG.write_bytes(data)
    with contextlib.suppress(ConfigError, ValidationFailed):  # user errors are fine
        load_config(CONFIG)


def write_seeds(folder: Path) -> None:
    """The config file of every tests/invalid/ case that spells it out."""
    for path in sorted((Path(__file__).parents[1] / "invalid").glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "raw" in case:
            content = ast.literal_eval(case["raw"])
        elif case.get("config", "flowfleet.yaml") in case.get("files", {}):
            content = case["files"][case.get("config", "flowfleet.yaml")].encode()
        else:
            continue
        (folder / path.stem).write_bytes(content)


def main() -> None:
    argv = sys.argv
    if not any(not arg.startswith("-") for arg in argv[1:]):  # no corpus folder given
        seeds = FOLDER / "seeds"
        seeds.mkdir()
        write_seeds(seeds)
        argv = [*argv, str(seeds)]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
