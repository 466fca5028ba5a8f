"""Job variables that validate: what the Prefect server accepts is accepted offline too.

The errors (unknown variable, wrong type) are cases in tests/invalid/flowfleet_job_variable_*.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "flowfleet.yaml"
FLOW = "from prefect import flow\n\n\n@flow\ndef hello(name: str = 'x') -> None:\n    print(name)\n"
HEADER = """
project: shop
environments: {dev: {local: true}}
work_pools:
  docker:
    type: docker
    base_job_template:
      job_configuration: {image: "{{ image }}"}
      variables:
        required: [image]
        properties:
          image: {type: string}
          memory: {anyOf: [{type: integer}, {type: "null"}], default: null}
          retries: {type: integer, default: 3}
          ports: {type: array, items: [{type: integer}, {type: string}]}
          env: {type: object, additionalProperties: {type: string}}
          credentials: {$ref: "#/definitions/Credentials"}
        definitions:
          Credentials:
            type: object
            required: [key]
            properties: {key: {type: string}, region: {type: string}}
deployments:
  - name: daily
    entrypoint: flows/hello.py:hello
"""


@pytest.mark.parametrize(
    "job_variables",
    [
        pytest.param("{image: shop}", id="plain"),
        pytest.param("{memory: null, retries: null}", id="null-for-optional-variables"),
        pytest.param("{ports: [8080, tcp]}", id="pydantic-v1-tuple"),
        pytest.param("{env.LOG_LEVEL: debug}", id="dotted-env-key"),
        pytest.param("{credentials: {region: eu-west-1}}", id="required-keys-not-enforced"),
        pytest.param(
            "{credentials: {$ref: {block_document_id: 0b7c7a5e-1f1e-4c55-9d55-0d4b8f6b2f00}}}",
            id="block-document-reference",
        ),
    ],
)
def test_accepted(job_variables: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = HEADER + f"    work_pool: {{name: docker, job_variables: {job_variables}}}\n"
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/hello.py": FLOW})
    assert dispatch(["validate", "-f", str(tmp_path / "flowfleet.yaml")]) == 0, (
        capsys.readouterr().err
    )


def test_a_pool_not_declared_is_not_checked(tmp_path: Path) -> None:
    """Its template lives on the server only: nothing to check against offline."""
    config = HEADER + "    work_pool: {name: elsewhere, job_variables: {anything: [1, 2]}}\n"
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/hello.py": FLOW})
    assert dispatch(["validate", "-f", str(tmp_path / "flowfleet.yaml")]) == 0


def test_the_dotted_key_is_checked_inside_its_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = HEADER + "    work_pool: {name: docker, job_variables: {env.WORKERS: 4}}\n"
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/hello.py": FLOW})
    assert dispatch(["validate", "-f", str(tmp_path / "flowfleet.yaml")]) == 1
    assert capsys.readouterr().err == (
        f"{tmp_path}/flowfleet.yaml:26:60: job variable 'env.WORKERS' of work pool 'docker': "
        "expected string, found 4 (an integer) [dev]\n"
        "1 problem found; nothing was changed.\n"
    )


def test_the_example_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its ECS pools' job variables are checked against infrastructure/ecs.json."""
    monkeypatch.delenv("IMAGE", raising=False)
    assert dispatch(["validate", "-f", str(QUICKSTART)]) == 0
