"""Talking to Prefect: every request goes through this package's HTTP client.

The HTTP client (retries, adaptive concurrency), where an environment's API is, the
live reads, request bodies, the environment lock, the ownership ledger, block types, and
the embedded local server. `apply`'s handlers, `export` and `run` send their own requests,
through the client (`api.Api`). May import `model`, `config` (connection settings) and
`errors`; never `plan`, `apply`, `output` or the command line.
"""
