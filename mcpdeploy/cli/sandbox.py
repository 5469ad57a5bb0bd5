"""`mcpdeploy sandbox ...`: the local emulator of Xano, Cloudflare and the MCP endpoint, served on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import PROJECT_DIR, command_settings
from mcpdeploy.cli.output import make_console

sandbox_app = typer.Typer(help="The built-in local sandbox (Xano, Cloudflare and an MCP endpoint on loopback).",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def serve(
    project_dir: Path = PROJECT_DIR,
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on (keep it loopback)."),
    port: int | None = typer.Option(
        None, "--port", metavar="PORT",
        help="Port to listen on (default: the project's sandbox port, kept between runs)."
    ),
) -> None:
    """Serve the project's sandbox until Ctrl-C. Commands run with --sandbox meanwhile use this server."""
    from mcpdeploy.sandbox import credentials
    from mcpdeploy.sandbox.core import Sandbox
    from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
    from mcpdeploy.sandbox.server import SandboxServer
    from mcpdeploy.sandbox.session import project_port, record_served, sandbox_dir

    console = make_console()
    with command_settings(project_dir, None, sandbox=False) as settings:
        state = sandbox_dir(settings)
        server = SandboxServer(Sandbox(state), host=host, port=project_port(settings) if port is None else port,
                               log=lambda line: console.print(line, markup=False))
        info = record_served(settings, server.url)
        url = server.url
        console.print(f"Sandbox serving on {url} (state in {state})", markup=False)
        console.print("Point mcpdeploy (or curl) at it with:", markup=False)
        for name, value in (
            ("XANO_INSTANCE_URL", url),
            ("XANO_WORKSPACE_ID", str(credentials.XANO_WORKSPACE_ID)),
            ("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN),
            ("CLOUDFLARE_API_BASE_URL", f"{url}/client/v4"),
            ("CLOUDFLARE_ACCOUNT_ID", credentials.CLOUDFLARE_ACCOUNT_ID),
            ("CLOUDFLARE_API_TOKEN", credentials.CLOUDFLARE_API_TOKEN),
            ("MCP_URL", f"{url}/mcp"),
            ("XANO_AUTH_URL", f"{url}/{AUTH_API_GROUP}"),
            ("MCP_API_KEY", credentials.MCP_API_KEY),
        ):
            console.print(f"  export {name}={value}", markup=False)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped", markup=False)
        finally:
            info.unlink(missing_ok=True)


@sandbox_app.command("reset")
def reset(project_dir: Path = PROJECT_DIR) -> None:
    """Forget everything the project's sandbox holds."""
    from mcpdeploy.sandbox.session import sandbox_dir

    with command_settings(project_dir, None, sandbox=False) as settings:
        folder = sandbox_dir(settings)
        existed = folder.exists()
        shutil.rmtree(folder, ignore_errors=True)
    make_console().print(f"Sandbox state {'removed' if existed else 'was already empty'}: {folder}", markup=False)
