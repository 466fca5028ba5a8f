"""What a Prefect 2 `ECSTask` block itself prepares for a flow run, as JSON (run with the
Prefect 2 environment of `make test-compat`, PREFECT_API_URL set):

    python old_task.py BLOCK_NAME

prefect-aws 0.4's own task-definition and RunTask preparation (no AWS call: the VPC's
network configuration, which it would look up, is given in the shape it builds, and the
block's task_customizations apply on top as they do there), and
`ECSTask.generate_work_pool_base_job_template()` (which refuses inline credentials: they
are saved first, as `inline-of-<block>`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

from prefect.client.schemas.objects import FlowRun
from prefect_aws.ecs import ECSTask

VPC_LOOKUP = {
    "awsvpcConfiguration": {"subnets": [], "assignPublicIp": "ENABLED", "securityGroups": []}
}


def main(name: str) -> None:
    block = ECSTask.load(name)
    run = FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), name="old-run")
    prepared = block.prepare_for_flow_run(run)
    definition = prepared._prepare_task_definition(
        prepared.task_definition or {}, region="us-east-1"
    )
    request = prepared._prepare_task_run(
        network_config=VPC_LOOKUP if block.vpc_id else None, task_definition_arn="arn:old"
    )
    if not block.aws_credentials._block_document_id:  # Prefect's mapping needs them saved
        block.aws_credentials.save(f"inline-of-{name}", overwrite=True)
    template = asyncio.run(block.generate_work_pool_base_job_template())
    print(
        json.dumps(
            {"task_definition": definition, "run_task_request": request, "template": template}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
    sys.stdout.flush()
    os._exit(0)
