"""What every command that reads config files does first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from flowfleet.errors import FlowfleetError, merge_problems
from flowfleet.output.console import err, print_warnings
from flowfleet.render.validate import CONNECT, Desired, Needs, load_and_validate


def load_desired(
    files: Sequence[Path],
    environments: Sequence[str],
    project: str | None,
    needs: Needs = CONNECT,
    *,
    read_early: Literal["plan", "apply"] | None = None,
) -> list[Desired]:
    """Load and validate (raising ValidationFailed with every problem, or with `needs`
    the unset variables it lists); print warnings once. `read_early`: start reading the
    servers of a plan or an apply while validating (see flowfleet.server.early)."""
    on_loaded = None
    if read_early is not None:
        from flowfleet.apply.prefetch import read_early_while_validating  # network: lazily

        on_loaded = read_early_while_validating(needs_seen=read_early == "apply")
    desired = load_and_validate(files, environments, project, needs=needs, on_loaded=on_loaded)
    seen = set()
    for d in desired:
        for warning in d.loaded.warnings:
            if warning not in seen:
                seen.add(warning)
                err(str(warning))
    print_warnings(merge_problems(w for d in desired for w in d.warnings))
    return desired


def check_lock_timeout(seconds: float) -> float:
    """`--lock-timeout` as given, if it is 0 or more."""
    if seconds < 0:
        raise FlowfleetError(f"--lock-timeout must be 0 or more seconds, not {seconds:g}")
    return seconds


def check_timeout(seconds: float) -> float:
    """`--timeout` as given, if it leaves time to do something."""
    if not seconds > 0:
        raise FlowfleetError(f"--timeout must be more than 0 seconds, not {seconds:g}")
    return seconds


def write_new_file(path: Path, text: str, *, force: bool) -> None:
    """Write `text` to `path`; an existing file only with `force`."""
    try:
        with path.open("w" if force else "x", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
    except FileExistsError:
        raise FlowfleetError(f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise FlowfleetError(f"cannot write {path}: {exc.strerror or exc}") from None
