"""`mcpdeploy sandbox deploy-worker`: upload a Worker version to the project's sandbox and send it all traffic,
as `wrangler deploy` would, so that rollback and the auth switch have deployments to work on."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpdeploy.cli.context import CommandContext, command
from mcpdeploy.cli.sandbox import sandbox_app
from mcpdeploy.errors import InputFileError, UsageError

# What the sandbox runs is never executed; a stub keeps the upload a real multipart module upload.
STUB_WORKER = 'export default {\n  async fetch() {\n    return new Response("mcpdeploy sandbox worker");\n  },\n};\n'


@command(sandbox_app, "deploy-worker", shared=("project_dir", "env", "json_output", "timeout", "deadline"))
def deploy_worker(
    ctx: CommandContext,
    name: str | None = typer.Option(None, "--name", metavar="NAME",
                                    help="Worker script name. [default: the project's Worker name]"),
    message: str = typer.Option("mcpdeploy sandbox deploy-worker", "--message", "-m", metavar="TEXT",
                                help="Annotation recorded on the version and the deployment (50 characters kept)."),
    script_file: Path | None = typer.Option(None, "--script", metavar="FILE", dir_okay=False,
                                            help="JavaScript module to upload. [default: a stub Worker]"),
) -> None:
    """Create a new Worker version in the sandbox and deploy it at 100%."""
    from mcpdeploy.providers.cloudflare import CloudflareClient

    content = _script_content(script_file)
    ctx.sandbox = True  # this command exists only for the sandbox
    with ctx.services() as (settings, options):
        cloudflare = settings.cloudflare
        script = name or cloudflare.worker_name
        if not script or cloudflare.api_token is None or not cloudflare.account_id:
            raise UsageError("the sandbox settings are incomplete (worker name, token, account)")
        with CloudflareClient(cloudflare.api_base_url, cloudflare.api_token.get_secret_value(),
                              cloudflare.account_id, options) as client:
            version, deployment = client.upload_worker(script, content, message)
    if ctx.json_output:
        ctx.emit({"script": script, "version_id": version.id, "version_number": version.number,
                  "deployment_id": deployment.id, "created_on": deployment.created_on})
        return
    ctx.say(f"Deployed {script} version {version.number} ({version.id}) at 100% in the sandbox "
            f"(deployment {deployment.id}).")


def _script_content(path: Path | None) -> str:
    if path is None:
        return STUB_WORKER
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"--script {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "not UTF-8 text: a Worker module is JavaScript source") from exc
