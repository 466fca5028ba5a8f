"""render: the fully resolved deployments (with their triggers) and standalone automations
of one environment, or the deployments' job configurations."""

from __future__ import annotations

from pathlib import Path

import yaml

from flowfleet.commands.common import load_desired
from flowfleet.errors import ConfigError
from flowfleet.model.masking import scrub, secret_values
from flowfleet.output.console import out, print_json
from flowfleet.render.validate import RENDER


def run_render(
    file: Path,
    environment: str | None,
    project: str | None,
    *,
    as_json: bool,
    jobs: bool = False,
) -> int:
    """Print the deployments and standalone automations (or with `jobs`, the deployments'
    job configurations) of `environment`; byte-identical for the same input."""
    envs = [environment] if environment else []
    desired = load_desired([file], envs, project, RENDER)
    if len(desired) != 1:
        names = ", ".join(d.environment for d in desired)
        raise ConfigError(f"{file}: choose an environment with --env ({names})")
    [selected] = desired
    data: dict[str, object] = {"project": selected.project, "environment": selected.environment}
    if jobs:
        from flowfleet.render.jobs import render_jobs

        secrets = {
            value
            for r in selected.deployments
            for value in secret_values(r.deployment.job_variables, r.deployment.secret_env)
        }
        data["jobs"] = scrub(render_jobs(selected), secrets)
    else:
        data["deployments"] = [r.deployment.to_json() for r in selected.deployments]
        automations = selected.infrastructure.automations
        if automations:
            data["automations"] = [a.model_dump(mode="json") for a in automations]
    if as_json:
        print_json(data)
    else:
        out(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())
    return 0
