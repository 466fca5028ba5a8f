"""desired + live → Plan: what apply would change, field by field. Pure.

Deployment and infrastructure plans, the normalisation that makes a fresh apply compare
equal, saved plans and their fingerprints, previews. May import `model`, `render` (the
desired state it plans), `config`, `errors`; never `server`, `apply`, `output` or httpx:
it gets the live state as data.
"""
