"""The default base job template of an ECS work pool, read offline.

From prefect-aws's ECS worker when it is installed; else the copy Prefect bundles in its
collection registry view. Prefect's own `get_default_base_job_template_for_infrastructure_type`
reads that same copy, but through a temporary server it starts first (about 30 s here),
so the file is read directly.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from flowfleet.errors import FlowfleetError

_BUNDLED = Path("server", "api", "collections_data", "views", "aggregate-worker-metadata.json")


def ecs_base_job_template() -> tuple[dict[str, Any], str]:
    """The template and where it came from (said in `flowfleet init`'s report)."""
    try:
        import prefect_aws
        from prefect_aws.workers.ecs_worker import ECSWorker
    except ImportError:
        return bundled_template("ecs"), "Prefect's bundled default for ecs"
    template = ECSWorker.get_default_base_job_template()
    return template, f"the ECS worker's default from prefect-aws {prefect_aws.__version__}"


def bundled_template(worker_type: str) -> dict[str, Any]:
    """The default template of `worker_type` from the registry view bundled with Prefect."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise FlowfleetError("Prefect is not installed; install prefect or prefect-aws")
    path = Path(spec.origin).parent / _BUNDLED
    try:
        view = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FlowfleetError(
            f"cannot read Prefect's bundled worker templates ({path}): {exc}; "
            "install prefect-aws for the ECS worker's own template"
        ) from None
    for workers in view.values():
        for worker in workers.values():
            if worker.get("type") == worker_type:
                return dict(worker["default_base_job_configuration"])
    raise FlowfleetError(
        f"Prefect bundles no default template for '{worker_type}' work pools; "
        "install prefect-aws for the ECS worker's own template"
    )
