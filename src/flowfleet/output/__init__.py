"""Plans and results as text, Markdown, JSON and progress on a terminal.

Everything flowfleet prints goes through `console`. May import `plan`, `apply` (the
result types), `model` and `errors`; never `server` or the command line.
"""
