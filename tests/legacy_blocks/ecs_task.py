"""The ECS infrastructure blocks of the old set-up: `python infrastructure/ecs_task.py`."""

import os

from prefect_aws import AwsCredentials
from prefect_aws.ecs import ECSTask

IMAGE = os.environ.get("IMAGE", "123456789012.dkr.ecr.us-east-1.amazonaws.com/ingest:1.4")
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
NETWORK = [
    {
        "op": "add",
        "path": "/networkConfiguration/awsvpcConfiguration/subnets",
        "value": ["subnet-0a1b2c3d"],
    },
    {
        "op": "add",
        "path": "/networkConfiguration/awsvpcConfiguration/securityGroups",
        "value": ["sg-0a1b2c3d"],
    },
    {
        "op": "add",
        "path": "/networkConfiguration/awsvpcConfiguration/assignPublicIp",
        "value": "DISABLED",
    },
]

ECSTask(
    aws_credentials=AwsCredentials(),
    image=IMAGE,
    cpu=512,
    memory=1024,
    cluster="ingest-dev",
    vpc_id="vpc-0a1b2c3d",
    execution_role_arn=EXECUTION_ROLE,
    task_role_arn="arn:aws:iam::123456789012:role/ingest-dev",
    env={"STAGE": "dev", "LOG_LEVEL": "DEBUG"},
    configure_cloudwatch_logs=True,
    cloudwatch_logs_options={"awslogs-group": "/prefect/ingest-dev"},
    stream_output=True,
    task_customizations=NETWORK,
).save("dev", overwrite=True)

prod = ECSTask(
    image=IMAGE,
    cpu=2048,
    memory=8192,
    cluster="ingest-prod",
    vpc_id="vpc-0a1b2c3d",
    execution_role_arn=EXECUTION_ROLE,
    task_role_arn="arn:aws:iam::123456789012:role/ingest-prod",
    env={"STAGE": "prod"},
    launch_type="FARGATE_SPOT",
    family="ingest",
    command=["python", "-m", "prefect.engine"],
    configure_cloudwatch_logs=True,
    task_start_timeout_seconds=300,
    task_customizations=NETWORK,
)
prod.save(name="prod", overwrite=True)

# Not readable without running the file: a warning at its line, the field left out.
ECSTask(image=f"{IMAGE}-debug", cpu=256).save("debug")
