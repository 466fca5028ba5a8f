"""The online pipeline: read, plan, take the lock, act.

`pipeline` plans every selected environment before any is applied, takes the
environment lock only when there is something to change, and hands each kind of change
to its handler (`deployments`, `infrastructure`). May import every stage below it
(`config`, `model`, `flows`, `render`, `plan`, `server`); never `output` or the command
line: what to print is the caller's business.
"""
