"""Reading config files: YAML with positions, strict models, both file formats.

May import only `flowfleet.errors` (besides pydantic, PyYAML and the standard library):
everything else builds on it.
"""
