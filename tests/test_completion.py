"""`flowfleet completion`: the scripts are produced, parse, and complete what exists."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flowfleet.cli.main import COMMANDS, dispatch


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert dispatch(["completion", shell]) == 0
    return capsys.readouterr().out


def complete_bash(script_text: str, *words: str) -> list[str]:
    """What bash offers for the last of `words` (the cursor is at its end)."""
    words_array = " ".join(f"'{word}'" for word in ("flowfleet", *words))
    program = (
        f"{script_text}\nCOMP_WORDS=({words_array}); COMP_CWORD={len(words)}; _flowfleet\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_bash_script_parses_and_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    text = script("bash", capsys)
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    assert text.rstrip().endswith("complete -F _flowfleet flowfleet")
    for command in [*COMMANDS, "import", "server"]:
        assert command in complete_bash(text, ""), command


def test_bash_completes_commands_options_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    text = script("bash", capsys)
    assert complete_bash(text, "va") == ["validate"]
    assert complete_bash(text, "plan", "--f") == ["--file", "--format"]
    assert sorted(complete_bash(text, "server", "st")) == ["start", "status", "stop"]
    assert complete_bash(text, "completion", "") == ["bash", "zsh", "fish"]


def test_bash_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    bash = script("bash", capsys)
    assert dispatch(["completion"]) == 0
    assert capsys.readouterr().out == bash
    assert bash.startswith("# Bash completion for flowfleet")


def test_zsh_and_fish_scripts_name_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    zsh, fish = script("zsh", capsys), script("fish", capsys)
    assert zsh.startswith("#compdef flowfleet")
    assert "complete -c flowfleet" in fish
    for command in COMMANDS:
        assert command in zsh and command in fish


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["completion", "csh"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        'error: Invalid value "csh" for SHELL. Choose from: "bash", "zsh", "fish".'
    )


def test_completion_does_not_import_prefect_or_pydantic() -> None:
    code = (
        "import sys\n"
        "from flowfleet.cli.main import dispatch\n"
        "rc = dispatch(['completion', 'bash'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pydantic'))\n"
        "print('HEAVY', heavy, rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY [] 0" in result.stdout
