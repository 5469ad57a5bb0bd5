"""`mcpdeploy dev`: run the project's Worker locally under `wrangler dev`, queue and consumer included, against
the sandbox's Xano with --sandbox. The work is in mcpdeploy.worker.dev_server, imported when the command runs."""

from __future__ import annotations

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import command_settings
from mcpdeploy.cli.context import CommandContext, command


@command(app, "dev", shared=("project_dir", "env", "sandbox"))
def dev(
    ctx: CommandContext,
    wrangler_args: list[str] | None = typer.Argument(None, metavar="[-- WRANGLER_ARGS]...",
                                                     help="More arguments for `wrangler dev`, after `--`."),
    port: int = typer.Option(8787, "--port", metavar="PORT", min=1, max=65535,
                             help="Port the Worker listens on (loopback)."),
) -> int:
    """Run the Worker with `wrangler dev` (Node and its npm packages set up first); with --sandbox, against the
    sandbox's Xano, serving the sandbox meanwhile and following `mcpdeploy auth disable --sandbox`. Ctrl-C stops."""
    from mcpdeploy.sandbox.session import (
        point_at_sandbox,
        project_port,
        record_served,
        running_server_url,
        start_server,
    )
    from mcpdeploy.worker.dev_server import DevOptions, run_dev

    say = ctx.say
    options = DevOptions(port=port, extra_args=list(wrangler_args or []))
    # The project's own settings even under --sandbox: this command serves (or finds) the sandbox itself and
    # points the Worker at it, for as long as the Worker runs.
    with command_settings(ctx.project_dir, ctx.env, sandbox=False) as settings:
        if not ctx.sandbox:
            return run_dev(settings, options, sandbox_url=None, say=say)
        url = running_server_url(settings)
        if url is not None:
            return run_dev(point_at_sandbox(settings, url), options, sandbox_url=url, say=say)
        # Served from here for as long as the Worker runs, and recorded, so that other commands run meanwhile
        # (`smoke-test --sandbox`, `auth disable --sandbox`) talk to this server instead of opening the state.
        with start_server(settings) as server:
            if not server.url.endswith(f":{project_port(settings)}"):
                say(f"warning: the sandbox's port {project_port(settings)} is taken; serving on {server.url}, "
                    "which SERVICE_CREDENTIALS in .dev.vars does not name: stop what holds the port")
            info = record_served(settings, server.url)
            try:
                return run_dev(point_at_sandbox(settings, server.url), options, sandbox_url=server.url, say=say)
            finally:
                info.unlink(missing_ok=True)
