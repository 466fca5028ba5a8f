"""The command line: argument parsing only; each command calls one core function.

May import `commands` (lazily, inside each command, so that `--help` stays fast),
`output`, `errors` and `_version`; no logic, HTTP or file writes here.
"""
