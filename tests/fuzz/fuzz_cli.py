"""Coverage-guided fuzzing of the command line with atheris (libFuzzer).

    python tests/fuzz/fuzz_cli.py -runs=2000

Each input becomes an argv (known commands and options, and free text) run in-process in
a fresh folder whose environments point at a closed port (the set-up of
tests/test_cli_fuzz.py). The exit code must be 0 or 1 (2 for plan --detailed-exitcode),
never 3 (a bug), and no server may be started.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: `tests`

with atheris.instrument_imports(include=["flowfleet"]):
    import flowfleet
    from flowfleet.cli.main import dispatch

    for module in pkgutil.walk_packages(flowfleet.__path__, "flowfleet."):  # commands load late
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    from flowfleet.server.local import LocalServer
    from tests.test_cli_fuzz import TOKENS, allowed_codes, fresh_project, no_server, safe

FORBIDDEN = set("/\\\x00")


def argv_from(data: bytes) -> list[str]:
    provider = atheris.FuzzedDataProvider(data)
    argv: list[str] = []
    for _ in range(provider.ConsumeIntInRange(0, 8)):
        if provider.ConsumeBool():
            argv.append(TOKENS[provider.ConsumeIntInRange(0, len(TOKENS) - 1)])
        else:
            text = provider.ConsumeUnicodeNoSurrogates(12)
            argv.append("".join(c for c in text if c not in FORBIDDEN))
    return safe(argv)


def test_one_input(data: bytes) -> None:
    argv = argv_from(data)
    out, err = io.StringIO(), io.StringIO()
    with fresh_project(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = dispatch(argv)
    text = out.getvalue() + err.getvalue()
    if code not in allowed_codes(argv) or "Traceback" in text or "internal error" in text:
        raise AssertionError(f"{argv!r} exited {code}:\n{text}")


def main() -> None:
    LocalServer.start = no_server  # type: ignore[assignment,method-assign]
    sys.stdin = io.StringIO("")  # apply's question: no answer
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
