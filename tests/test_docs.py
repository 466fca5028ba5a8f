"""The documentation site: the generated reference is current, the strict build passes and
does fail on a broken link, and the examples of the pages do what the pages say."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from flowfleet.cli.main import dispatch
from flowfleet.commands.schema import config_schema
from tests.conftest import write_tree

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"


class _MkdocsLoader(yaml.SafeLoader):
    """mkdocs.yml as data: its `!!python/name:` tags (the Mermaid fence) become strings."""


_MkdocsLoader.add_multi_constructor(
    "tag:yaml.org,2002:python/name:", lambda loader, suffix, node: suffix
)


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), re.S)


def site_copy(target: Path) -> Path:
    """mkdocs.yml, docs/ and the repository files the pages link to."""
    for name in ["mkdocs.yml", "docs", "schema", "bench/results", "examples"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".flowfleet"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / name)
    return target


def mkdocs_build(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [str(MKDOCS), "build", "--strict", "--site-dir", str(folder / "site")]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)


# --- the reference --------------------------------------------------------------------------


def test_committed_reference_is_current() -> None:
    expected = generator().reference(config_schema())
    assert (DOCS / "reference.md").read_text() == expected, "run `make schema` and commit"


def test_reference_lists_every_key_of_every_model() -> None:
    schema = config_schema()
    page = (DOCS / "reference.md").read_text()
    for name, model in [("flowfleet.yaml", schema), *schema["$defs"].items()]:
        section = page.split(f"## {name if name != 'flowfleet.yaml' else '`flowfleet.yaml`'}\n")[1]
        section = section.split("\n## ")[0]
        assert set(re.findall(r"^\| `(\w+)` \|", section, re.M)) == set(model["properties"])
    assert "| `interval` | number (> 0) | optional | Seconds between runs. |" in page
    assert "| `environments` | map of name → [Environment](#environment) (at least 1" in page


def test_reference_lists_every_field_of_prefects_deployment_create() -> None:
    """The table of Prefect's deployment fields names every field of the installed
    Prefect's `DeploymentCreate` (the client's and the server's) once and nothing else, so
    it cannot go stale; what it calls managed is what flowfleet sends on a create."""
    from prefect.client.schemas.actions import DeploymentCreate
    from prefect.server.schemas.actions import DeploymentCreate as ServerDeploymentCreate

    from flowfleet.server import wire

    rows = generator().DEPLOYMENT_FIELDS
    listed = [name for name, _, _ in rows]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(DeploymentCreate.model_fields) | set(
        ServerDeploymentCreate.model_fields
    )
    managed = {name for name, status, _ in rows if status == "managed"}
    assert managed == set(wire.DeploymentCreate.model_fields)
    assert {status for _, status, _ in rows} == {"managed", "not managed"}
    page = (DOCS / "reference.md").read_text()
    assert "| `version_info` | not managed | What `prefect deploy` infers" in page


# --- the site -------------------------------------------------------------------------------


def test_site_builds_strictly_with_every_page_in_the_nav(tmp_path: Path) -> None:
    folder = site_copy(tmp_path / "repo")
    result = mkdocs_build(folder)
    assert result.returncode == 0, result.stderr
    nav = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_MkdocsLoader)["nav"]
    in_nav = set(re.findall(r"[\w-]+\.md", str(nav)))
    assert in_nav == {page.name for page in DOCS.glob("*.md")}
    # a linked repository file is copied into the site, a linked folder becomes its path
    assert (folder / "site" / "repository" / "schema" / "flowfleet.schema.json").is_file()
    ci_cd = (folder / "site" / "ci-cd" / "index.html").read_text()
    assert "<code>examples/quickstart/</code>" in ci_cd


def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    folder = site_copy(tmp_path / "repo")
    page = folder / "docs" / "config.md"
    page.write_text(page.read_text() + "\nSee [the results](../bench/results/missing.json).\n")
    result = mkdocs_build(folder)
    assert result.returncode == 1
    assert "../bench/results/missing.json" in result.stderr


# --- what the pages show works --------------------------------------------------------------


def test_getting_started_config_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = blocks("getting-started.md", "yaml")[0]  # the first config of the page
    (flow,) = blocks("getting-started.md", "python")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "hello.py").write_text(flow)
    (tmp_path / "flowfleet.yaml").write_text(config)
    monkeypatch.chdir(tmp_path)
    assert dispatch(["validate"]) == 0
    assert capsys.readouterr().out == "ok  flowfleet.yaml  dev: 1 deployment\n"


ORDERS_FLOW = (
    "from prefect import flow\n\n\n@flow\n"
    "def import_orders(key: str, dry_run: bool = False) -> None:\n    print(key, dry_run)\n"
)


def test_config_page_triggers_and_automations_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The examples of "Triggers and automations" validate; broken as its output shows,
    they give that output."""
    page = (DOCS / "config.md").read_text()
    start = page.index("## Triggers and automations")
    section = page[start : page.index("\n## ", start + 1)]
    deployments, automations = re.findall(r"```yaml\n(.*?)```", section, re.S)
    (shown,) = re.findall(r"```text\n(.*?)```", section, re.S)
    head = "project: shop\nenvironments:\n  dev: {local: true}\n  prod: {local: true}\n"
    config = head + deployments + automations
    write_tree(tmp_path, {"flowfleet.yaml": config, "flows/orders.py": ORDERS_FLOW})
    monkeypatch.chdir(tmp_path)
    assert dispatch(["validate"]) == 0
    capsys.readouterr()
    broken = {
        '          key: "{{': '          kye: "{{',
        "deployment: import-orders/import-orders}": "deployment: import-orders}",
        "actions: [{type: cancel-flow-run}]": "actions: []",
    }
    for good, bad in broken.items():
        assert good in config
        config = config.replace(good, bad)
    (tmp_path / "flowfleet.yaml").write_text(config)
    assert dispatch(["validate"]) == 1
    assert capsys.readouterr().err == shown + "3 problems found; nothing was changed.\n"


def test_migration_page_config_renders_as_the_legacy_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(ROOT / "examples" / "legacy", legacy)
    (unified,) = blocks("migrating-from-per-environment-files.md", "yaml")
    (legacy / "flowfleet.yaml").write_text(unified)
    monkeypatch.chdir(legacy)
    monkeypatch.setenv("DEV_PREFECT_API_URL", "https://dev.invalid/api")
    monkeypatch.setenv("PROD_PREFECT_API_URL", "https://prod.invalid/api")
    for env in ("dev", "prod"):
        assert dispatch(["render", "-f", f"{env}.yaml", "--json"]) == 0
        before = capsys.readouterr().out
        assert '"name": "ingest-orders"' in before
        assert dispatch(["render", "--env", env, "--json"]) == 0
        assert capsys.readouterr().out == before, env
