"""`flowfleet init`'s building blocks: flow discovery, the ECS template, the files to write.

The templates of the written files are package data in this folder (`*.tmpl`).
"""

from __future__ import annotations

from flowfleet.interop.scaffold.discover import Discovery, FoundFlow, Unusable, discover_flows
from flowfleet.interop.scaffold.ecs import ecs_base_job_template
from flowfleet.interop.scaffold.files import ScaffoldFile, scaffold_files, workflow_files

__all__ = [
    "Discovery",
    "FoundFlow",
    "ScaffoldFile",
    "Unusable",
    "discover_flows",
    "ecs_base_job_template",
    "scaffold_files",
    "workflow_files",
]
