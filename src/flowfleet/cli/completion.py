"""`flowfleet completion`."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from cyclopts import Parameter


def completion(
    shell: Annotated[
        Literal["bash", "zsh", "fish"], Parameter(help="The shell to complete in.")
    ] = "bash",
) -> int:
    """Print the shell completion script of flowfleet (commands, options, choices).

    bash: `flowfleet completion bash > ~/.local/share/bash-completion/completions/flowfleet`;
    zsh: `flowfleet completion zsh > "${fpath[1]}/_flowfleet"`;
    fish: `flowfleet completion fish > ~/.config/fish/completions/flowfleet.fish`.
    """
    from flowfleet.cli.main import app

    sys.stdout.write(app.generate_completion(prog_name="flowfleet", shell=shell))
    return 0
