"""config + environment → the desired state, and its offline validation.

Overlays, matrix, `{env}` and `${VAR}` substitution, job variables against base job
templates, each deployment's job configuration (`render --jobs`, ECS), and the checks of
a rendered environment against its flows and templates (`validate`). Pure but for reading
the repository's files. May import `config`, `flows`, `model` and `errors`; never
`plan`, `server`, `apply` or httpx.
"""
