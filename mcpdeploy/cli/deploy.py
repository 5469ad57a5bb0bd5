"""`mcpdeploy deploy`: run the project's deploy and journal the version it made (mcpdeploy.deploy)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, SANDBOX, TRACE, command_settings, examples, http_options
from mcpdeploy.cli.output import emit_json, make_console
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.config import Settings
    from mcpdeploy.deploy import DeployResult
    from mcpdeploy.providers.http import HttpOptions


@app.command("deploy", epilog=examples("mcpdeploy deploy --sandbox", "mcpdeploy deploy --env production"))
def deploy_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
) -> int:
    """Deploy the Worker: run `npx wrangler deploy` (or [deploy] command in mcpdeploy.toml) with this project's
    Cloudflare settings, and journal the version it made and the one it replaced (`mcpdeploy history`,
    `mcpdeploy rollback`). --sandbox deploys to the local sandbox with real wrangler. Exit codes: 0 deployed,
    4 locked, 6 the deploy failed or Cloudflare refused, 7 unreachable, 64 usage."""
    console = make_console()
    flags: list[str] = []
    with contextlib.suppress(OSError):
        if project_dir.resolve() != Path.cwd().resolve():
            flags += ["--project-dir", str(project_dir)]
    flags += (["--env", env] if env else []) + (["--sandbox"] if sandbox else [])
    with command_settings(project_dir, env, sandbox) as settings, http_options(trace, settings) as options:
        result = deploy_worker(settings, options, console, flags)
    if json_output:
        emit_json({"command": "deploy", "outcome": "deployed", **result.to_json(), "http": dict(options.counts)},
                  "deploy")
    return int(ExitCode.OK)


def deploy_worker(settings: Settings, options: HttpOptions, console: Console, flags: list[str]) -> DeployResult:
    """Run the deploy for these settings and say what it did; `flags` select the project and environment, to
    repeat in the journal and in the rollback command printed. Shared with `provision --deploy`."""
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.deploy import command_words, run_deploy, run_subprocess, wrangler_environment
    from mcpdeploy.state import open_state

    with worker_client(settings, options) as (client, worker), contextlib.closing(open_state(settings)) as state:
        cloudflare = settings.cloudflare
        words = command_words(settings.deploy.command)
        environment = wrangler_environment(
            os.environ, api_token=cloudflare.api_token.get_secret_value() if cloudflare.api_token else None,
            account_id=cloudflare.account_id, api_base_url=cloudflare.api_base_url, environment=settings.env_name,
            output_file=settings.state_dir / "deploy" / "wrangler-output.jsonl")
        console.print(f"Deploying {worker}: {' '.join(words)}", markup=False)
        result = run_deploy(
            client, state, settings.env_name, options.redactor, project_dir=settings.project_dir,
            worker=worker, words=words, env=environment, argv=["deploy", *flags], run_command=run_subprocess,
            on_warning=lambda text: console.print(f"warning: {text}", markup=False))
    replaced = result.replaced_version_id or ("nothing (first deploy)" if result.replaced is None else
                                              " + ".join(v.version_id for v in result.replaced.versions))
    console.print(f"Deployed {result.worker}: version {result.version_id} serves 100% of traffic, replacing "
                  f"{replaced}; run {result.run_id}. Undo with `mcpdeploy rollback{''.join(' ' + f for f in flags)}`.",
                  markup=False)
    return result
