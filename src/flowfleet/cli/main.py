"""`flowfleet` entry point and the single error handler.

Command modules are registered by import path and loaded only when used, so
`flowfleet --help` imports neither prefect nor pydantic.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

from cyclopts import App, CycloptsError, Parameter

from flowfleet._version import __version__

app = App(
    name="flowfleet",
    help="Deployments as code for Prefect: validate, render, plan and apply every environment.",
    version=__version__,
)
# name → one-line help (given here because the modules are imported only when used)
COMMANDS = {
    "validate": "Validate config files offline: schema, flows, parameters, schedules.",
    "render": "Print the fully resolved deployments and automations of one environment.",
    "plan": "Show what apply would change on each environment's server, field by field.",
    "apply": "Make each environment's server match the config, changing only what differs.",
    "diff": "Show how two environments' declared deployments differ (offline).",
    "run": "Trigger a deployment; with --wait, wait for its final state.",
    "schema": "Print the JSON Schema of flowfleet.yaml.",
    "destroy": "Delete every deployment of a preview environment (apply --preview), only those.",
    "export": "Print the deployments and work pools on an environment's server as flowfleet.yaml.",
    "init": "Scaffold flowfleet.yaml, a Dockerfile and CI workflows into a repository.",
    "completion": "Print the shell completion script (bash, zsh or fish).",
}
for _name, _help in COMMANDS.items():
    app.command(f"flowfleet.cli.{_name}:{_name}", name=_name, help=_help)
app.command(
    "flowfleet.cli.import_:import_",
    name="import",
    help="Convert a prefect.yaml, or per-environment files, into flowfleet.yaml.",
)
app.command(
    "flowfleet.cli.server:server",
    name="server",
    help="Start, stop or inspect the embedded server of a local environment.",
)


@app.meta.default
def _meta(
    *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
    debug: Annotated[bool, Parameter(negative=(), help="Show tracebacks.")] = False,
) -> int:
    result = app(tokens, exit_on_error=False, print_error=False, result_action="return_value")
    return result if isinstance(result, int) else 0


def dispatch(argv: Sequence[str]) -> int:
    """Parse `argv` and run the command it names; every outcome is an exit code, never an
    exception (the one error handler)."""
    from flowfleet.errors import FlowfleetError, ValidationFailed

    try:
        result = app.meta(
            list(argv), exit_on_error=False, print_error=False, result_action="return_value"
        )
        return result if isinstance(result, int) else 0
    except CycloptsError as exc:
        sys.stderr.write(f"error: {_usage_message(exc)}\nRun 'flowfleet --help' for usage.\n")
        return 1
    except ValidationFailed as exc:
        from flowfleet.output.console import print_problems

        print_problems(exc.problems, exc.warnings)
        return 1
    except FlowfleetError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug: say so, traceback only on request
        if "--debug" in argv:
            traceback.print_exc()
        else:
            sys.stderr.write(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in flowfleet; run again with --debug for the traceback.\n"
            )
        return 3


def _usage_message(exc: CycloptsError) -> str:
    exc.verbose = False
    return " ".join(str(exc).split())


def main() -> None:
    """Console script entry point."""
    sys.exit(dispatch(sys.argv[1:]))
