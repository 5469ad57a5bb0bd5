"""`mcpdeploy deploy`: run the project's deploy and journal the version it made (mcpdeploy.worker.deploy)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import LONG_RUNNING, CommandContext, command
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from mcpdeploy.project.settings import Settings
    from mcpdeploy.providers.http import HttpOptions
    from mcpdeploy.worker.deploy import DeployResult


@command(app, "deploy", shared=LONG_RUNNING,
         epilog=examples("mcpdeploy deploy --sandbox", "mcpdeploy deploy --env production"))
def deploy_command(ctx: CommandContext) -> int:
    """Deploy the Worker: run `npx wrangler deploy` (or [deploy] command in mcpdeploy.toml) with this project's
    Cloudflare settings, and journal the version it made and the one it replaced (`mcpdeploy history`,
    `mcpdeploy rollback`). --sandbox deploys to the local sandbox with real wrangler. Exit codes: 0 deployed,
    4 locked, 6 the deploy failed or Cloudflare refused, 7 unreachable, 64 usage."""
    with ctx.services() as (settings, options):
        result = deploy_worker(ctx, settings, options)
    ctx.emit({"outcome": "deployed", **result.to_json(), "http": dict(options.counts)})
    return int(ExitCode.OK)


def deploy_worker(ctx: CommandContext, settings: Settings, options: HttpOptions) -> DeployResult:
    """Run the deploy for these settings and say what it did; the context's project and environment flags are
    repeated in the journal and in the rollback command printed. Shared with `provision --deploy`."""
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.state import open_state
    from mcpdeploy.worker.deploy import command_words, run_deploy, run_subprocess, wrangler_environment

    with worker_client(settings, options) as (client, worker), contextlib.closing(open_state(settings)) as state:
        cloudflare = settings.cloudflare
        words = command_words(settings.deploy.command)
        environment = wrangler_environment(
            os.environ, api_token=cloudflare.api_token.get_secret_value() if cloudflare.api_token else None,
            account_id=cloudflare.account_id, api_base_url=cloudflare.api_base_url, environment=settings.env_name,
            output_file=settings.state_dir / "deploy" / "wrangler-output.jsonl")
        flags = ctx.target_flags()
        ctx.say(f"Deploying {worker}: {' '.join(words)}")
        # No spinner: the deploy's own output is relayed line by line to the same terminal.
        ctx.event("progress", message=f"Deploying {worker}")
        result = run_deploy(
            client, state, settings.env_name, options.redactor, project_dir=settings.project_dir,
            worker=worker, words=words, env=environment, argv=["deploy", *flags], run_command=run_subprocess,
            on_warning=ctx.warn)
    replaced = result.replaced_version_id or ("nothing (first deploy)" if result.replaced is None else
                                              " + ".join(v.version_id for v in result.replaced.versions))
    ctx.event("deployed", worker=result.worker, version_id=result.version_id)
    ctx.say(f"Deployed {result.worker}: version {result.version_id} serves 100% of traffic, replacing "
                  f"{replaced}; run {result.run_id}. Undo with `mcpdeploy rollback{''.join(' ' + f for f in flags)}`.")
    return result
