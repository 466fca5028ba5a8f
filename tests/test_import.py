"""`flowfleet import prefect.yaml`: several prefect.yaml shapes, the exact flowfleet.yaml and
warnings they give, and that the result validates when the flows exist."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flowfleet.cli.main import dispatch
from tests.conftest import write_tree


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# Prefect's docs ("Reuse configuration across deployments", Prefect 3), verbatim except
# that its `build: ...`, `push: ...` and `pull: ...` stand-ins are a real pull step.
DOCS_ALIASES = dedent(
    """
    pull:
    - prefect.deployments.steps.set_working_directory:
        directory: /opt/prefect/docs-example
    definitions:
        work_pools:
            my_docker_work_pool: &my_docker_work_pool
                name: my-docker-work-pool
                work_queue_name: default
                job_variables:
                    image: "{{ build-image.image }}"
        schedules:
            every_ten_minutes: &every_10_minutes
                interval: 600
        actions:
            docker_build: &docker_build
                - prefect_docker.deployments.steps.build_docker_image: &docker_build_config
                    id: build-image
                    requires: prefect-docker>=0.3.0
                    image_name: my-example-image
                    tag: dev
                    dockerfile: auto
            docker_push: &docker_push
                - prefect_docker.deployments.steps.push_docker_image: &docker_push_config
                    requires: prefect-docker>=0.6.0
                    image_name: my-example-image
                    tag: dev
                    credentials: "{{ prefect.blocks.docker-registry-credentials.dev-registry }}"
    deployments:
      - name: deployment-1
        entrypoint: flows/hello.py:my_flow
        schedule: *every_10_minutes
        parameters:
            number: 42,
            message: Don't panic!
        work_pool: *my_docker_work_pool
        build: *docker_build # Uses the full docker_build action with no overrides
        push: *docker_push
      - name: deployment-2
        entrypoint: flows/goodbye.py:my_other_flow
        work_pool: *my_docker_work_pool
        build:
            - prefect_docker.deployments.steps.build_docker_image:
                <<: *docker_build_config # Uses the docker_build_config alias and overrides the dockerfile field
                dockerfile: Dockerfile.custom
        push: *docker_push
      - name: deployment-3
        entrypoint: flows/hello.py:yet_another_flow
        schedule: *every_10_minutes
        work_pool:
            name: my-process-work-pool
            work_queue_name: primary-queue
    """  # noqa: E501
)
DOCS_ALIASES_FLOWS = {
    "flows/hello.py": dedent(
        """
        from prefect import flow


        @flow
        def my_flow(number, message: str):
            print(number, message)


        @flow
        def yet_another_flow():
            pass
        """
    ),
    "flows/goodbye.py": "from prefect import flow\n\n\n@flow\ndef my_other_flow():\n    pass\n",
}
DOCS_ALIASES_EXPECTED = dedent(
    """
    # yaml-language-server: $schema=flowfleet.schema.json
    # Converted from prefect.yaml by `flowfleet import`; check it with `flowfleet validate`.

    defaults:
      pull_steps:
        - prefect.deployments.steps.set_working_directory:
            directory: /opt/prefect/docs-example

    # 'default' has no api_url: like prefect deploy, it uses the Prefect settings in
    # force (PREFECT_API_URL or the active profile). For more environments, add them with
    # api_url and api_key_env, and per-environment changes (see docs/config.md).
    environments:
      default: {}

    deployments:
      - name: deployment-1
        entrypoint: flows/hello.py:my_flow
        parameters:
          number: 42,
          message: Don't panic!
        schedules:
          - interval: 600
        work_pool:
          name: my-docker-work-pool
          work_queue_name: default
          job_variables:
            image: ${IMAGE}
      - name: deployment-2
        entrypoint: flows/goodbye.py:my_other_flow
        work_pool:
          name: my-docker-work-pool
          work_queue_name: default
          job_variables:
            image: ${IMAGE}
      - name: deployment-3
        entrypoint: flows/hello.py:yet_another_flow
        schedules:
          - interval: 600
        work_pool:
          name: my-process-work-pool
          work_queue_name: primary-queue
    """
)
DOCS_ALIASES_WARNINGS = dedent(
    """
    prefect.yaml:36:5: warning: build and push steps left out: flowfleet does not build; CI builds and pushes the image and passes its tag in ${IMAGE} (see docs/ci-cd.md)
    prefect.yaml:10:24: warning: '{{ build-image.image }}' (the image a build step made) is now ${IMAGE}: CI builds the image and sets IMAGE to its tag
    """  # noqa: E501
)

# Prefect's docs ("Templating options"), verbatim: its deployment has no name nor entrypoint.
DOCS_TEMPLATING = dedent(
    """
    build:
    - prefect_docker.deployments.steps.build_docker_image:
        id: build-image
        requires: prefect-docker>=0.6.0
        image_name: my-repo/my-image
        tag: my-tag
        dockerfile: auto
    push:
    - prefect_docker.deployments.steps.push_docker_image:
        requires: prefect-docker>=0.6.0
        image_name: my-repo/my-image
        tag: my-tag
        credentials: "{{ prefect.blocks.docker-registry-credentials.dev-registry }}"
    deployments:
    - # base metadata
      name: null
      version: "{{ build-image.tag }}"
      tags:
      - "{{ $my_deployment_tag }}"
      - "{{ prefect.variables.some_common_tag }}"
      description: null
      schedule: null
      concurrency_limit: null
      # flow-specific fields
      entrypoint: null
      parameters: {}
      # infra-specific fields
      work_pool:
        name: "my-k8s-work-pool"
        work_queue_name: null
        job_variables:
          image: "{{ build-image.image }}"
          cluster_config: "{{ prefect.blocks.kubernetes-cluster-config.my-favorite-config }}"
    """
)
# The same with the name and entrypoint filled in.
DOCS_TEMPLATING_NAMED = DOCS_TEMPLATING.replace("name: null", "name: k8s", 1).replace(
    "entrypoint: null", "entrypoint: flows/hello.py:my_flow"
)

DOCS_TEMPLATING_FLOWS = {
    "flows/hello.py": "from prefect import flow\n\n\n@flow\ndef my_flow():\n    pass\n"
}

# The shape `prefect init` writes (and a Prefect 2.11 project kept): null sections, an
# empty schedule, flow_name, per-deployment pull steps that override the top-level ones.
PREFECT_INIT = dedent(
    """
    # Welcome to your prefect.yaml file! You can use this file for storing and managing
    # configuration for deploying your flows.

    # Generic metadata about this project
    name: bunq ynab connect
    prefect-version: 2.11.4

    # build section allows you to manage and build docker images
    build: null

    # push section allows you to manage if and how this project is uploaded to remote locations
    push: null

    # pull section allows you to provide instructions for cloning this project in remote locations
    pull:
    - prefect.deployments.steps.git_clone:
        id: clone
        repository: https://github.com/example/bunq-ynab-connect.git
        branch: main
    - prefect.deployments.steps.run_shell_script:
        id: install-poetry
        directory: "{{ clone.directory }}"
        script: |
          pip install poetry
          poetry install --no-interaction

    # the deployments section allows you to provide configuration for deploying flows
    deployments:
    - name: extract
      version: 2023.08.28.1
      tags: []
      description: Extract Bunq & Ynab data
      schedule: {}
      flow_name: ""
      entrypoint: flows/etl.py:extract
      parameters: {}
      work_pool:
        name: bunqynab-pool
        work_queue_name: default
        job_variables: {}
    - name: sync-v3
      version: null
      tags: ["Production","V3"]
      description: null
      entrypoint: flows/etl.py:sync
      schedule: null
      parameters:
        bucket: "ccdi-validation"
        number_of_entries: 20
      pull:
        - prefect.deployments.steps.git_clone:
            id: clone-step
            repository: https://github.com/example/bunq-ynab-connect.git
            branch: "3.2.0"
        - prefect.deployments.steps.pip_install_requirements:
            requirements_file: requirements_V3.txt
            directory: "{{ clone-step.directory }}"
            stream_output: False
      work_pool:
        name: ccdi-curation-2gb-prefect-3.2.14-python3.9
        work_queue_name: null
        job_variables: {}
    - name: no-pull
      entrypoint: flows/etl.py:extract
      pull: []
    """
)
PREFECT_INIT_FLOWS = {
    "flows/etl.py": dedent(
        """
        from prefect import flow


        @flow
        def extract():
            pass


        @flow
        def sync(bucket: str, number_of_entries: int = 10):
            pass
        """
    )
}

# Every schedule shape and deployment field prefect deploy reads, and what it does not.
EVERY_FIELD = dedent(
    """
    name: shop
    definitions:
      tags: &common_tags [shop, "{{ $TEAM }}"]
    deployments:
      - name: nightly
        entrypoint: flows/shop.py:orders
        description: "Loads orders; costs ${COST} (a literal, not a variable)"
        version: 1.10
        tags: *common_tags
        parameters: {region: "{{ $REGION }}", run_id: "{{ ctx.flow_run.id }}", days: 3}
        schedules:
          - cron: "0 2 * * *"
            timezone: Europe/Berlin
            day_or: false
            active: true
            parameters: {days: 1}
            slug: nightly
            anchor_date: "2024-01-01T00:00:00"
          - interval: 3600
            anchor_date: "2024-01-01T00:00:00"
            timezone: UTC
            day_or: true
          - interval: PT15M
          - interval: "01:30:00"
            slug: every-90-minutes
            replaces: old-slug
          - rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"
            timezone: America/New_York
          - rrule: '{"rrule": "FREQ=DAILY;BYHOUR=6", "timezone": "Asia/Tokyo"}'
          - {}
        work_pool:
          name: "{{ $POOL }}"
          work_queue_name: critical
          job_variables:
            env: {STAGE: "{{ prefect.variables.stage }}"}
          priority: 1
        pull:
          prefect.deployments.steps.set_working_directory:
            directory: "{{ $HOME }}/shop"
        concurrency_limit:
          limit: 2
          collision_strategy: CANCEL_NEW
        paused: true
        enforce_parameter_schema: false
        triggers:
          - type: event
            expect: [shop.order.created]
        color: blue
      - name: weekly
        entrypoint: flows/shop.py:orders
        schedule:
          cron: "0 6 * * 1"
        concurrency_limit: 1
    """
)
EVERY_FIELD_FLOWS = {
    "flows/shop.py": dedent(
        """
        from prefect import flow


        @flow
        def orders(region: str = "eu", run_id: str = "", days: int = 7):
            pass
        """
    )
}

DOCS_TEMPLATING_NAMED_EXPECTED = dedent(
    """
    # yaml-language-server: $schema=flowfleet.schema.json
    # Converted from prefect.yaml by `flowfleet import`; check it with `flowfleet validate`.

    # 'default' has no api_url: like prefect deploy, it uses the Prefect settings in
    # force (PREFECT_API_URL or the active profile). For more environments, add them with
    # api_url and api_key_env, and per-environment changes (see docs/config.md).
    environments:
      default: {}

    deployments:
      - name: k8s
        entrypoint: flows/hello.py:my_flow
        version: '{{ build-image.tag }}'
        tags:
          - ${my_deployment_tag}
          - '{{ prefect.variables.some_common_tag }}'
        work_pool:
          name: my-k8s-work-pool
          job_variables:
            image: ${IMAGE}
            cluster_config: '{{ prefect.blocks.kubernetes-cluster-config.my-favorite-config }}'
    """
)

DOCS_TEMPLATING_NAMED_WARNINGS = dedent(
    """
    prefect.yaml:1:1: warning: build and push steps left out: flowfleet does not build; CI builds and pushes the image and passes its tag in ${IMAGE} (see docs/ci-cd.md)
    prefect.yaml:17:12: warning: '{{ build-image.tag }}' kept as written: it is the output of a build or push step, which flowfleet does not run; write the value
    prefect.yaml:20:5: warning: '{{ prefect.variables.some_common_tag }}' kept as written: prefect deploy resolves it when deploying, flowfleet does not; write the value or a ${VAR}
    prefect.yaml:32:14: warning: '{{ build-image.image }}' (the image a build step made) is now ${IMAGE}: CI builds the image and sets IMAGE to its tag
    prefect.yaml:16:3: warning: deployment 'k8s' has no pull steps; prefect deploy would store set_working_directory to the folder it ran in (/opt/prefect/<folder> if it built an image), a path of that machine, so none is written: add pull_steps (e.g. set_working_directory to where the worker has the code), or a worker cannot find the flow file
    """  # noqa: E501
)

PREFECT_INIT_EXPECTED = dedent(
    """
    # yaml-language-server: $schema=flowfleet.schema.json
    # Converted from prefect.yaml by `flowfleet import`; check it with `flowfleet validate`.

    project: bunq-ynab-connect

    defaults:
      pull_steps:
        - prefect.deployments.steps.git_clone:
            id: clone
            repository: https://github.com/example/bunq-ynab-connect.git
            branch: main
        - prefect.deployments.steps.run_shell_script:
            id: install-poetry
            directory: '{{ clone.directory }}'
            script: |
              pip install poetry
              poetry install --no-interaction

    # 'default' has no api_url: like prefect deploy, it uses the Prefect settings in
    # force (PREFECT_API_URL or the active profile). For more environments, add them with
    # api_url and api_key_env, and per-environment changes (see docs/config.md).
    environments:
      default: {}

    deployments:
      - name: extract
        entrypoint: flows/etl.py:extract
        description: Extract Bunq & Ynab data
        version: 2023.08.28.1
        work_pool:
          name: bunqynab-pool
          work_queue_name: default
      - name: sync-v3
        entrypoint: flows/etl.py:sync
        tags:
          - Production
          - V3
        parameters:
          bucket: ccdi-validation
          number_of_entries: 20
        work_pool:
          name: ccdi-curation-2gb-prefect-3.2.14-python3.9
        pull_steps:
          - prefect.deployments.steps.git_clone:
              id: clone-step
              repository: https://github.com/example/bunq-ynab-connect.git
              branch: 3.2.0
          - prefect.deployments.steps.pip_install_requirements:
              requirements_file: requirements_V3.txt
              directory: '{{ clone-step.directory }}'
              stream_output: false
      - name: no-pull
        entrypoint: flows/etl.py:extract
        pull_steps: []
    """
)

PREFECT_INIT_WARNINGS = dedent(
    """

    """
)

EVERY_FIELD_EXPECTED = dedent(
    """
    # yaml-language-server: $schema=flowfleet.schema.json
    # Converted from prefect.yaml by `flowfleet import`; check it with `flowfleet validate`.

    project: shop

    # 'default' has no api_url: like prefect deploy, it uses the Prefect settings in
    # force (PREFECT_API_URL or the active profile). For more environments, add them with
    # api_url and api_key_env, and per-environment changes (see docs/config.md).
    environments:
      default: {}

    deployments:
      - name: nightly
        entrypoint: flows/shop.py:orders
        description: Loads orders; costs $${COST} (a literal, not a variable)
        version: '1.10'
        tags:
          - shop
          - ${TEAM}
        parameters:
          region: ${REGION}
          run_id: '{{ ctx.flow_run.id }}'
          days: 3
        schedules:
          - cron: 0 2 * * *
            timezone: Europe/Berlin
            day_or: false
            active: true
            parameters:
              days: 1
            slug: nightly
          - interval: 3600
            timezone: UTC
            anchor_date: '2024-01-01T00:00:00'
          - interval: 900
          - interval: 5400
            slug: every-90-minutes
            replaces: old-slug
          - rrule: FREQ=WEEKLY;BYDAY=MO;BYHOUR=9
            timezone: America/New_York
          - rrule: FREQ=DAILY;BYHOUR=6
            timezone: Asia/Tokyo
        work_pool:
          name: ${POOL}
          work_queue_name: critical
          job_variables:
            env:
              STAGE: '{{ prefect.variables.stage }}'
        pull_steps:
          - prefect.deployments.steps.set_working_directory:
              directory: ${HOME}/shop
        concurrency_limit:
          limit: 2
          collision_strategy: CANCEL_NEW
        paused: true
        enforce_parameter_schema: false
        triggers:
          - type: event
            expect:
              - shop.order.created
      - name: weekly
        entrypoint: flows/shop.py:orders
        schedules:
          - cron: 0 6 * * 1
        concurrency_limit: 1
    """
)

EVERY_FIELD_WARNINGS = dedent(
    """
    prefect.yaml:18:9: warning: 'anchor_date' left out: prefect deploy ignores it on cron schedules (it is for interval schedules)
    prefect.yaml:22:9: warning: 'day_or' left out: prefect deploy ignores it on interval schedules (it is for cron schedules)
    prefect.yaml:30:9: warning: an empty schedule left out (prefect deploy refuses it: 'Unknown schedule type')
    prefect.yaml:36:7: warning: 'priority' left out: prefect deploy ignores it in work_pool
    prefect.yaml:48:5: warning: 'color' left out: not a prefect.yaml deployment field
    prefect.yaml:49:5: warning: deployment 'weekly' has no pull steps; prefect deploy would store set_working_directory to the folder it ran in (/opt/prefect/<folder> if it built an image), a path of that machine, so none is written: add pull_steps (e.g. set_working_directory to where the worker has the code), or a worker cannot find the flow file
    """  # noqa: E501
)


CASES = {
    "docs-aliases": (
        DOCS_ALIASES,
        DOCS_ALIASES_FLOWS,
        DOCS_ALIASES_EXPECTED,
        DOCS_ALIASES_WARNINGS,
    ),
    "docs-templating": (
        DOCS_TEMPLATING_NAMED,
        DOCS_TEMPLATING_FLOWS,
        DOCS_TEMPLATING_NAMED_EXPECTED,
        DOCS_TEMPLATING_NAMED_WARNINGS,
    ),
    "prefect-init": (PREFECT_INIT, PREFECT_INIT_FLOWS, PREFECT_INIT_EXPECTED, ""),
    "every-field": (EVERY_FIELD, EVERY_FIELD_FLOWS, EVERY_FIELD_EXPECTED, EVERY_FIELD_WARNINGS),
}
# What the converted configs read from the environment (CI would set these).
ENVIRON = {"IMAGE": "registry/app:abc123", "TEAM": "data", "REGION": "eu", "POOL": "k8s"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, value in {**ENVIRON, "my_deployment_tag": "team-a"}.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.mark.parametrize("case", list(CASES))
def test_converts_exactly(case: str, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _, expected, warnings = CASES[case]
    write_tree(project, {"prefect.yaml": source})
    assert dispatch(["import", "prefect.yaml"]) == 0
    captured = capsys.readouterr()
    assert captured.out == expected
    assert captured.err == warnings


@pytest.mark.parametrize("case", list(CASES))
def test_result_validates_when_the_flows_exist(
    case: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, flows, _, _ = CASES[case]
    write_tree(project, {"prefect.yaml": source, **flows})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    count = source.count("entrypoint: ") - source.count("entrypoint: null")
    plural = "s" if count != 1 else ""
    assert capsys.readouterr().out == (
        f"wrote flowfleet.yaml: {count} deployment{plural} from prefect.yaml\n"
    )
    assert dispatch(["validate"]) == 0
    assert capsys.readouterr().out == f"ok  flowfleet.yaml  default: {count} deployment{plural}\n"


def test_output_file_is_never_overwritten_without_force(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"prefect.yaml": PREFECT_INIT, "flowfleet.yaml": "mine\n"})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 1
    assert capsys.readouterr().err == "error: flowfleet.yaml exists; pass --force to overwrite it\n"
    assert (project / "flowfleet.yaml").read_text() == "mine\n"
    assert (
        dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml", "--force", "--env", "prod"])
        == 0
    )
    written = (project / "flowfleet.yaml").read_text()
    assert written == PREFECT_INIT_EXPECTED.replace("'default' has", "'prod' has").replace(
        "  default: {}", "  prod: {}"
    )


@pytest.mark.parametrize(
    ("source", "args", "expected"),
    [
        (
            DOCS_TEMPLATING,  # verbatim from Prefect's docs: name and entrypoint are null
            [],
            "prefect.yaml:16:9: this deployment has no name; prefect deploy would ask for it, "
            "flowfleet needs it written down",
        ),
        (
            "deployments:\n- name: a\n",
            [],
            "prefect.yaml:2:3: this deployment has no entrypoint; prefect deploy would ask for "
            "it, flowfleet needs it written down",
        ),
        (
            "name: x\n",
            [],
            "prefect.yaml:1:1: no deployments to convert: expected a non-empty 'deployments:' list",
        ),
        (
            "deployments: {a: 1}\n",
            [],
            "prefect.yaml:1:14: no deployments to convert: expected a non-empty 'deployments:' "
            "list",
        ),
        (
            "- a\n- b\n",
            [],
            "prefect.yaml:1:1: expected a prefect.yaml: a mapping with 'deployments:'",
        ),
        (
            "deployments:\n- name: a\n  entrypoint: f.py:a\n  schedule: {cron: '* * * * *'}\n"
            "  schedules: []\n",
            [],
            "prefect.yaml:4:13: both 'schedule' and 'schedules' are given; prefect deploy refuses "
            "that too: keep 'schedules'",
        ),
        (
            "deployments:\n- name: a\n  entrypoint: f.py:a\n  schedules:\n  - interval: soon\n",
            [],
            "prefect.yaml:5:15: interval 'soon' is neither seconds nor a duration like PT1H or "
            "01:00:00",
        ),
        (
            "deployments:\n- name: a\n  entrypoint: f.py:a\n  schedules:\n"
            "  - {cron: '* * * * *', interval: 60}\n",
            [],
            "prefect.yaml:5:5: a schedule needs exactly one of cron, interval or rrule; found "
            "cron and interval",
        ),
        (
            "deployments:\n- name: a\n  entrypoint: f.py:a\n  pull: git clone\n",
            [],
            "prefect.yaml:4:9: pull steps must be a list of steps like "
            "'- prefect.deployments.steps.git_clone: {...}'",
        ),
        (
            "deployments:\n- name: [a]\n  entrypoint: f.py:a\n",
            [],
            "prefect.yaml:2:9: name must be text, found a list",
        ),
        (
            "deployments:\n- name: a\n  entrypoint: f.py:a\n  work_pool: pool-a\n",
            [],
            "prefect.yaml:4:14: work_pool must be a mapping, found 'pool-a'",
        ),
        (
            "deployments:\n  - name: a\n\tentrypoint: x\n",
            [],
            "prefect.yaml:3:1: YAML syntax error: a tab is used for indentation; YAML indents "
            "with spaces only",
        ),
        (
            PREFECT_INIT,
            ["--env", "prod env"],
            "--env 'prod env' is not a valid environment name; use letters, digits, '_', '.' "
            "and '-', starting with a letter or digit",
        ),
    ],
)
def test_user_errors_are_one_line(
    source: str, args: list[str], expected: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(project, {"prefect.yaml": source})
    assert dispatch(["import", "prefect.yaml", *args]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {expected}\n"
    assert captured.out == ""


def test_missing_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(["import", "nope.yaml"]) == 1
    assert capsys.readouterr().err == (
        "error: nope.yaml: cannot read the file (No such file or directory)\n"
    )


def test_prefect_placeholders_are_not_flowfleet_variables(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`${X}` means nothing to Prefect: it stays literal ($${X}), also behind an alias;
    `$${X}` stays as written too."""
    source = dedent(
        """
        definitions:
          script: &script "echo ${HOME} $${X} {{ $USER }} {{ $not-a-name }}"
        deployments:
        - name: a
          entrypoint: flows/a.py:a
          parameters: {command: *script}
        """
    )
    write_tree(project, {"prefect.yaml": source})
    assert dispatch(["import", "prefect.yaml"]) == 0
    captured = capsys.readouterr()
    assert "      command: echo $${HOME} $$${X} ${USER} {{ $not-a-name }}\n" in captured.out
    assert captured.err.split("\n")[0] + "\n" == (
        "prefect.yaml:2:11: warning: '{{ $not-a-name }}' kept as written: 'not-a-name' is "
        "not a variable name that ${...} takes\n"
    )
    assert "deployment 'a' has no pull steps" in captured.err


def test_concurrency_options_are_kept(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """prefect.yaml's `concurrency_limit: {limit, collision_strategy, grace_period_seconds}`
    is flowfleet's too; a mapping with only a limit becomes the number."""
    source = dedent(
        """
        deployments:
          - name: options
            entrypoint: flows/shop.py:orders
            concurrency_limit:
              limit: 2
              collision_strategy: CANCEL_NEW
              grace_period_seconds: 300
              color: blue
          - name: limit-only
            entrypoint: flows/shop.py:orders
            concurrency_limit: {limit: 3}
          - name: no-limit
            entrypoint: flows/shop.py:orders
            concurrency_limit: {collision_strategy: CANCEL_NEW}
        """
    )
    write_tree(project, {"prefect.yaml": source, **EVERY_FIELD_FLOWS})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    warnings = capsys.readouterr().err.splitlines()
    assert [w for w in warnings if "no pull steps" not in w] == [
        "prefect.yaml:8:7: warning: 'color' left out: prefect deploy ignores it",
        "prefect.yaml:14:24: warning: 'concurrency_limit' left out: it has no 'limit', so "
        "prefect deploy sets no concurrency limit either",
    ]
    written = (project / "flowfleet.yaml").read_text()
    assert written.split("deployments:\n", 1)[1] == (
        "  - name: options\n"
        "    entrypoint: flows/shop.py:orders\n"
        "    concurrency_limit:\n"
        "      limit: 2\n"
        "      collision_strategy: CANCEL_NEW\n"
        "      grace_period_seconds: 300\n"
        "  - name: limit-only\n"
        "    entrypoint: flows/shop.py:orders\n"
        "    concurrency_limit: 3\n"
        "  - name: no-limit\n"
        "    entrypoint: flows/shop.py:orders\n"
    )
    assert dispatch(["render", "--json"]) == 0
    rendered = json.loads(capsys.readouterr().out)["deployments"]
    assert [(d["concurrency_limit"], d.get("concurrency_options")) for d in rendered] == [
        (2, {"collision_strategy": "CANCEL_NEW", "grace_period_seconds": 300}),
        (3, None),
        (None, None),
    ]


def test_a_schedule_rename_is_kept_where_it_names_a_new_slug(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schedule's `replaces` (its old slug) carries over beside its new `slug`; without
    a slug, or naming its own, it renames nothing and is left out with a warning."""
    source = dedent(
        """
        deployments:
          - name: renamed
            entrypoint: flows/shop.py:orders
            pull: []
            schedules:
              - {cron: "0 2 * * *", slug: nightly, replaces: daily}
              - {cron: "0 3 * * *", replaces: hourly}
              - {cron: "0 4 * * *", slug: early, replaces: early}
        """
    )
    write_tree(project, {"prefect.yaml": source, **EVERY_FIELD_FLOWS})
    assert dispatch(["import", "prefect.yaml", "-o", "flowfleet.yaml"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "prefect.yaml:7:29: warning: 'replaces' left out: it renames a schedule to this "
        "schedule's 'slug', and there is none",
        "prefect.yaml:8:42: warning: 'replaces' left out: it names the schedule's own slug "
        "(nothing to rename)",
    ]
    assert dispatch(["render", "--json"]) == 0
    [rendered] = json.loads(capsys.readouterr().out)["deployments"]
    assert [(s["slug"], s.get("replaces")) for s in rendered["schedules"]] == [
        ("nightly", "daily"),
        ("schedule-2", None),
        ("early", None),
    ]
