"""Block types registered through flowfleet's Api are the ones Prefect itself registers.

flowfleet registers the type and schema of a block from an installed collection (and of
the blocks nested in its fields) with plain requests, when the server lacks them (a
server started without the collection installed, Prefect Cloud). Prefect's own
`Block.register_type_and_schema`, run afterwards against the same server, must find every
one of them (by slug, and by the schema's checksum and version) and create nothing.

The test servers run with prefect-aws installed and register its types at start, so the
test first deletes two of them (no other test uses them).
"""

from __future__ import annotations

import asyncio

import pytest

from flowfleet.model.target import Target
from flowfleet.server.api import connect
from flowfleet.server.blocks import register_block_type
from tests.integration.conftest import Servers, api

pytestmark = pytest.mark.xdist_group("servers")

# s3-bucket nests AwsCredentials and MinIOCredentials (a Union in its `credentials` field).
SLUGS = ("s3-bucket", "aws-credentials", "minio-credentials")
REMOVED = ("s3-bucket", "minio-credentials")


def _schemas(url: str) -> dict[str, int]:
    counts = {}
    for slug in SLUGS:
        type_id = api(url, "GET", f"/block_types/slug/{slug}")["id"]
        body = {"block_schemas": {"block_type_id": {"any_": [type_id]}}}
        counts[slug] = len(api(url, "POST", "/block_schemas/filter", body))
    return counts


async def _register_with_prefect(url: str) -> None:
    from prefect.client.orchestration import PrefectClient
    from prefect_aws import S3Bucket

    async with PrefectClient(url) as client:
        await S3Bucket.register_type_and_schema(client=client)


def test_registration_matches_prefects_own(servers: Servers) -> None:
    url = servers.url("prod")
    before = _schemas(url)
    for slug in REMOVED:
        api(url, "DELETE", f"/block_types/{api(url, 'GET', f'/block_types/slug/{slug}')['id']}")

    async def register() -> None:
        async with connect(Target("prod", url)) as client:
            await register_block_type(client, "s3-bucket")

    asyncio.run(register())
    ours = _schemas(url)
    assert ours == {**before, **{slug: 1 for slug in REMOVED}}  # made again, one schema each

    asyncio.run(_register_with_prefect(url))
    assert _schemas(url) == ours  # Prefect found every type and schema flowfleet made
