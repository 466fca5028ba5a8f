"""Reading flow files without importing them: source, parameter schema, docstrings.

`validate` learns a flow's name and parameters from its source alone, as Prefect parses
entrypoints, so it needs neither the flows' dependencies nor a server. May import
`flowfleet.config` (for locations), `flowfleet.errors` and the standard library; never
`render`, `plan`, `server` or httpx.
"""
