"""A release: the sdist and the wheel built from it hold what they should, and the wheel
installs into a clean virtual environment (dependencies resolved from its own metadata)
where the installed `flowfleet` runs.

One test, because the clean install is the slow part (about a minute without pip's cache).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_DECLARED = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
assert _DECLARED is not None
VERSION = _DECLARED.group(1)  # what `flowfleet --version` must print once installed
TEMPLATES = {
    f"flowfleet/interop/scaffold/{name}"
    for name in (
        "Dockerfile.tmpl",
        "dockerignore.tmpl",
        "flowfleet-deploy.yml.tmpl",
        "flowfleet-plan.yml.tmpl",
        "flowfleet.yaml.tmpl",
        "requirements.txt.tmpl",
    )
}
NEVER = ("__pycache__", ".flowfleet/", "tests/", ".venv/", ".pyc", "site/", ".env")


def source_tree(target: Path) -> Path:
    """The repository's files as a clean clone has them (tracked and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def build(source: Path, dist: Path) -> tuple[Path, Path]:
    """sdist, then the wheel from the sdist (what `python -m build` does)."""
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        check=True,
    )
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return sdist, wheel


def check_contents(sdist: Path, wheel: Path) -> None:
    assert (sdist.name, wheel.name) == (
        f"flowfleet-{VERSION}.tar.gz",
        f"flowfleet-{VERSION}-py3-none-any.whl",
    )
    prefix = f"flowfleet-{VERSION}/"
    with tarfile.open(sdist) as archive:
        in_sdist = {name.removeprefix(prefix) for name in archive.getnames()}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
        entry_points = archive.read(f"flowfleet-{VERSION}.dist-info/entry_points.txt").decode()
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "schema/flowfleet.schema.json"} <= (
        in_sdist
    )
    assert {f"src/{name}" for name in TEMPLATES} | {"src/flowfleet/py.typed"} <= in_sdist
    assert TEMPLATES | {"flowfleet/py.typed", "flowfleet/cli/main.py"} <= in_wheel
    assert f"flowfleet-{VERSION}.dist-info/licenses/LICENSE" in in_wheel  # pyproject's license
    assert "flowfleet = flowfleet.cli.main:main" in entry_points
    for name in in_sdist | in_wheel:
        assert not any(part in name for part in NEVER), name
    sdist_top = {"PKG-INFO", "README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "setup.cfg"}
    sdist_top |= {"MANIFEST.in", "schema", "src", prefix.rstrip("/")}
    assert {name.split("/")[0] for name in in_sdist} == sdist_top
    assert {name.split("/")[0] for name in in_wheel} == {
        "flowfleet",
        f"flowfleet-{VERSION}.dist-info",
    }


def clean_environment(home: Path) -> dict[str, str]:
    """No variable of the development environment leaks in (no venv, no PYTHONPATH)."""
    (home / "prefect").mkdir(parents=True)
    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "LANG"))}
    return {
        **keep,
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "PREFECT_HOME": str(home / "prefect"),
        "FLOWFLEET_CACHE_DIR": str(home / "cache"),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
    }


def test_wheel_and_sdist_install_and_run_in_a_clean_virtual_environment(tmp_path: Path) -> None:
    sdist, wheel = build(source_tree(tmp_path / "source"), tmp_path / "dist")
    check_contents(sdist, wheel)

    venv = tmp_path / "venv"
    env = clean_environment(tmp_path / "home")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)]
    subprocess.run(install, check=True, env=env, capture_output=True)
    flowfleet = str(venv / "bin" / "flowfleet")

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([flowfleet, *args], cwd=cwd, env=env, capture_output=True, text=True)

    version = run("--version")
    assert (version.returncode, version.stdout) == (0, f"{VERSION}\n")

    example = tmp_path / "quickstart"
    shutil.copytree(
        ROOT / "examples" / "quickstart",
        example,
        ignore=shutil.ignore_patterns(".flowfleet", "__pycache__"),
    )
    validated = run("validate", cwd=example)
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == (
        "ok  flowfleet.yaml  dev: 8 deployments\nok  flowfleet.yaml  prod: 8 deployments\n"
    )

    repository = tmp_path / "repo"
    (repository / "flows").mkdir(parents=True)
    (repository / "flows" / "etl.py").write_text(
        "from prefect import flow\n\n\n@flow\ndef etl():\n    pass\n"
    )
    initialised = run("init", str(repository))  # the scaffold's templates are package data
    assert initialised.returncode == 0, initialised.stderr
    assert (repository / ".github" / "workflows" / "flowfleet-plan.yml").is_file()
    # init then validate, with no variables set: valid, with a warning for ${IMAGE}
    validated = run("validate", cwd=repository)
    assert validated.returncode == 0, validated.stderr
    assert "warning: environment variable 'IMAGE' is not set" in validated.stderr
