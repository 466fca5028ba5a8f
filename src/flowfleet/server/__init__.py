"""The only package that talks to Prefect.

The HTTP client (retries, adaptive concurrency), where an environment's API is, the
live reads, request bodies, the environment lock, the ownership ledger, block types, and
the embedded local server. May import `model`, `config` (connection settings) and
`errors`; never `plan`, `apply`, `output` or the command line.
"""
