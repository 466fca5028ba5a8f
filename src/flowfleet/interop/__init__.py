"""Meeting the rest of the Prefect world: `import` of a prefect.yaml, `export` of what
is on a server, and `init`'s scaffold of a repository.

May import every stage (`config`, `flows`, `render`, `model`, `plan`, `server`); never
the command line.
"""
