"""The atheris harnesses run a short, bounded, seeded pass in `make test`; `make fuzz`
runs them longer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris has wheels for Linux only (pyproject.toml)")

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    ("harness", "runs", "options"),
    [
        ("fuzz_loader.py", 3000, ["-max_len=4096"]),
        ("fuzz_cli.py", 300, ["-max_len=128", "-len_control=0"]),
    ],
)
def test_harness_runs_without_a_crash(
    harness: str, runs: int, options: list[str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / harness), f"-runs={runs}", "-seed=1", *options],
        cwd=HERE.parents[1],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,  # a hang fails instead of blocking the suite
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {runs} runs" in result.stderr
