"""`mcpdeploy sandbox deploy-worker`: upload a Worker version to the project's sandbox and send it all traffic,
as `wrangler deploy` would, so that rollback and the auth switch have deployments to work on."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpdeploy.cli.common import DEADLINE, ENV, JSON, PROJECT_DIR, TIMEOUT, command_settings, http_options
from mcpdeploy.cli.output import emit_json, make_console
from mcpdeploy.cli.sandbox import sandbox_app
from mcpdeploy.errors import InputFileError, UsageError

# What the sandbox runs is never executed; a stub keeps the upload a real multipart module upload.
STUB_WORKER = 'export default {\n  async fetch() {\n    return new Response("mcpdeploy sandbox worker");\n  },\n};\n'


@sandbox_app.command("deploy-worker")
def deploy_worker(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    name: str | None = typer.Option(None, "--name", help="Worker script name. [default: the project's Worker name]"),
    message: str = typer.Option("mcpdeploy sandbox deploy-worker", "--message", "-m",
                                help="Annotation recorded on the version and the deployment (50 characters kept)."),
    script_file: Path | None = typer.Option(None, "--script", dir_okay=False,
                                            help="JavaScript module to upload. [default: a stub Worker]"),
    as_json: bool = JSON,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
) -> None:
    """Create a new Worker version in the sandbox and deploy it at 100%."""
    from mcpdeploy.providers.cloudflare import CloudflareClient

    content = _script_content(script_file)
    with command_settings(project_dir, env, sandbox=True) as settings, \
            http_options(None, settings, timeout=timeout, deadline=deadline) as options:
        cloudflare = settings.cloudflare
        script = name or cloudflare.worker_name
        if not script or cloudflare.api_token is None or not cloudflare.account_id:
            raise UsageError("the sandbox settings are incomplete (worker name, token, account)")
        with CloudflareClient(cloudflare.api_base_url, cloudflare.api_token.get_secret_value(),
                              cloudflare.account_id, options) as client:
            version, deployment = client.upload_worker(script, content, message)
    if as_json:
        emit_json({"script": script, "version_id": version.id, "version_number": version.number,
                   "deployment_id": deployment.id, "created_on": deployment.created_on}, "sandbox-deploy-worker")
        return
    make_console().print(
        f"Deployed {script} version {version.number} ({version.id}) at 100% in the sandbox "
        f"(deployment {deployment.id}).",
        markup=False,
    )


def _script_content(path: Path | None) -> str:
    if path is None:
        return STUB_WORKER
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"--script {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "not UTF-8 text: a Worker module is JavaScript source") from exc
