"""The default base job template of an ECS work pool, read offline.

From prefect-aws's ECS worker when it is installed; else the copy Prefect bundles in its
collection registry view. Prefect's own `get_default_base_job_template_for_infrastructure_type`
reads that same copy, but through a temporary server it starts first (about 30 s here),
so the file is read directly.
"""

from __future__ import annotations

from typing import Any

from flowfleet.render.templates import bundled_template


def ecs_base_job_template() -> tuple[dict[str, Any], str]:
    """The template and where it came from (said in `flowfleet init`'s report)."""
    try:
        import prefect_aws
        from prefect_aws.workers.ecs_worker import ECSWorker
    except ImportError:
        return bundled_template("ecs"), "Prefect's bundled default for ecs"
    template = ECSWorker.get_default_base_job_template()
    return template, f"the ECS worker's default from prefect-aws {prefect_aws.__version__}"
