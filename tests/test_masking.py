"""Masking of secret `job_variables.env` values in output. Pure."""

from __future__ import annotations

import asyncio
import json

from flowfleet.model.items import Item
from flowfleet.model.masking import (
    MASK,
    MASK_CHANGED,
    mask_env,
    mask_env_change,
    scrub,
    secret_values,
)
from flowfleet.model.resources import Block, Deployment, Infrastructure
from flowfleet.plan.items import masked
from flowfleet.render.job_references import DeclaredReferences

SECRET = "hunter2-very-secret"


def test_mask_env_masks_only_the_named_entries() -> None:
    job_variables = {"image": "x", "env": {"DB": SECRET, "LEVEL": "info"}}
    assert mask_env(job_variables, {"DB"}) == {"image": "x", "env": {"DB": MASK, "LEVEL": "info"}}
    assert job_variables["env"]["DB"] == SECRET  # the input is left alone
    assert mask_env(job_variables, set()) is job_variables


def test_changed_secret_says_so_without_the_values() -> None:
    old, new = mask_env_change({"env": {"DB": "a-secret"}}, {"env": {"DB": SECRET}}, {"DB"})
    assert (old, new) == ({"env": {"DB": MASK}}, {"env": {"DB": MASK_CHANGED}})
    same = mask_env_change({"env": {"DB": SECRET}}, {"env": {"DB": SECRET, "X": "1"}}, {"DB"})
    assert same == ({"env": {"DB": MASK}}, {"env": {"DB": MASK, "X": "1"}})


def test_scrub_removes_secret_values_from_a_prefect_error_body() -> None:
    body = {"request_body": {"job_variables": {"env": {"DB": SECRET}}}, "detail": "x"}
    text = f"POST /deployments/ failed with 422: {json.dumps(body)}"
    secrets = secret_values({"env": {"DB": SECRET, "LEVEL": "info"}}, {"DB"})
    assert secrets == {SECRET}
    assert SECRET not in scrub(text, secrets)
    assert scrub({"a": [SECRET, "keep"]}, secrets) == {"a": [MASK, "keep"]}
    # short values are masked only where they are the whole string
    assert scrub({"a": "abc", "b": "xabcx"}, {"abc"}) == {"a": MASK, "b": "xabcx"}


def test_render_json_of_a_deployment_masks_secret_env() -> None:
    deployment = Deployment(
        flow_name="f",
        name="d",
        entrypoint="flows/f.py:f",
        job_variables={"env": {"DB": SECRET}},
        secret_env=("DB",),
        protected=True,
    )
    data = deployment.to_json()
    assert data["job_variables"] == {"env": {"DB": MASK}}
    assert data["secret_env"] == ["DB"] and data["protected"] is True
    assert SECRET not in json.dumps(data)
    plain = Deployment(flow_name="f", name="d", entrypoint="flows/f.py:f").to_json()
    assert "secret_env" not in plain and "protected" not in plain


def test_secret_block_fields_use_the_same_mask() -> None:
    block = Block(
        name="db", type="secret", fields={"value": SECRET, "user": "me"}, secret_fields=("value",)
    )
    item = Item("block", "secret/db", {"data": dict(block.fields)}, secrets=frozenset({"value"}))
    assert masked(item, "data", item.fields["data"]) == {"value": MASK, "user": "me"}
    assert masked(item, "type", "secret") == "secret"  # only the data is secret

    references = DeclaredReferences(Infrastructure(blocks=(block,)), "dev")
    document = asyncio.run(references.read_block_document_by_name("db", "secret"))
    assert document.data == {"value": MASK, "user": "me"}
