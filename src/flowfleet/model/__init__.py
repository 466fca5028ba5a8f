"""What flowfleet manages, in the words both the plan and the server speak.

The fully resolved deployment and infrastructure models, the comparable items of
infrastructure, the fields flowfleet manages, where an environment's API is (`Target`),
and how secrets are masked. Pure data and pure functions: imports only pydantic and the
standard library (and `flowfleet.errors`); everything else may import it.
"""
