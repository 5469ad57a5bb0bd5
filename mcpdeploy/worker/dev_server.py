"""`mcpdeploy dev`: the project's Worker under `wrangler dev`, with the usage queue and its consumer run locally
as wrangler runs them, pointed at Xano (the sandbox's with `--sandbox`).

What it adds to a bare `wrangler dev`:
- Node and the Worker's pinned npm packages (`npm ci` when node_modules does not match package-lock.json);
- `XANO_AUTH_URL`: with --sandbox, the sandbox's auth API group; else `[smoke] xano_auth_url` when set;
- with --sandbox, the auth switch. `mcpdeploy auth disable --sandbox` sets MCP_AUTH_DISABLED_UNTIL on the
  sandbox's deployed Worker; a local Worker reads its secrets from .dev.vars, so this mirrors the value into
  .dev.vars (empty when the switch is off) and touches the wrangler config, which makes wrangler reload the
  Worker with the new .dev.vars (wrangler watches its config file, not .dev.vars). The Worker compares the value
  with the clock on each request, so the switch also ends by itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mcpdeploy.errors import UsageError
from mcpdeploy.files.devvars import dev_vars_path, plan_dev_vars, read_dev_vars
from mcpdeploy.files.edits import apply_edit
from mcpdeploy.files.wrangler import find_wrangler_config
from mcpdeploy.project.settings import Settings
from mcpdeploy.rollback.auth_switch import SWITCH_SECRET
from mcpdeploy.state.backup import backup_dir
from mcpdeploy.worker.node_tools import Node, find_node, install_packages, node_env, packages_current

POLL_SECONDS = 1.0


@dataclass
class DevOptions:
    port: int = 8787
    ip: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)  # given to wrangler dev as they are


def sandbox_switch_value(settings: Settings) -> str:
    """MCP_AUTH_DISABLED_UNTIL on the sandbox's deployed Worker ("" when unset), read from the sandbox's state
    on disk, which the serving process writes after every change."""
    from mcpdeploy.sandbox.cloudflare import deployed_secret_value
    from mcpdeploy.sandbox.core import Sandbox
    from mcpdeploy.sandbox.session import sandbox_dir

    worker = settings.cloudflare.worker_name
    if not worker:
        return ""
    return deployed_secret_value(Sandbox(sandbox_dir(settings)), worker, SWITCH_SECRET) or ""


def mirror_switch(settings: Settings, value: str) -> bool:
    """Set MCP_AUTH_DISABLED_UNTIL in .dev.vars (or .dev.vars.<env>) to `value`; whether the file changed."""
    current = read_dev_vars(dev_vars_path(settings.project_dir, settings.env_name)) if dev_vars_path(
        settings.project_dir, settings.env_name).exists() else {}
    if current.get(SWITCH_SECRET, "") == value:
        return False
    edit = plan_dev_vars(settings.project_dir, env=settings.env_name, values={SWITCH_SECRET: value})
    apply_edit(edit, backup_dir(settings.state_dir, "dev"))
    return edit.changed


def wrangler_command(node: Node, script: Path, settings: Settings, options: DevOptions,
                     variables: dict[str, str]) -> list[str]:
    command = [str(node.node), str(script), "dev", "--ip", options.ip, "--port", str(options.port),
               "--show-interactive-dev-session=false"]
    if settings.env_name:
        command += ["--env", settings.env_name]
    for name, value in variables.items():
        command += ["--var", f"{name}:{value}"]
    return command + options.extra_args


def run_dev(settings: Settings, options: DevOptions, *, sandbox_url: str | None,
            say: Callable[[str], None]) -> int:
    """Run wrangler dev until it exits or Ctrl-C; its exit code (0 after Ctrl-C)."""
    from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP

    project = settings.project_dir
    config = find_wrangler_config(project)
    if config is None:
        raise UsageError(f"{project} has no wrangler.toml: there is no Worker to run",
                         hint="Create the project with `mcpdeploy init`, then `mcpdeploy provision --sandbox --yes`.")
    node = find_node()
    if not packages_current(project):
        say("Installing the Worker's npm packages (npm ci)...")
    script = install_packages(node, project)

    variables: dict[str, str] = {}
    if sandbox_url is not None:
        variables["XANO_AUTH_URL"] = f"{sandbox_url}/{AUTH_API_GROUP}"
    elif settings.smoke.xano_auth_url:
        variables["XANO_AUTH_URL"] = str(settings.smoke.xano_auth_url)
    switch = sandbox_switch_value(settings) if sandbox_url is not None else None
    if switch is not None:
        mirror_switch(settings, switch)

    command = wrangler_command(node, script, settings, options, variables)
    mcp_url = f"http://{options.ip}:{options.port}/mcp"
    say(f"Starting wrangler dev on {mcp_url}" + (f" against the sandbox at {sandbox_url}" if sandbox_url else ""))
    if sandbox_url is not None:
        from mcpdeploy.sandbox import credentials

        say("Try it from another terminal, in this folder:")
        say(f"  export MCP_URL={mcp_url} XANO_AUTH_URL={variables['XANO_AUTH_URL']} "
            f"MCP_API_KEY={credentials.MCP_API_KEY}")
        say("""  mcpdeploy smoke-test --call-tool echo --tool-args '{"text": "hello"}'""")
    process = subprocess.Popen(command, cwd=project, env=node_env(node), stdin=subprocess.DEVNULL,
                               start_new_session=True)
    # wrangler runs in its own process group (so that stopping it ends workerd too): a SIGTERM sent to this
    # process (a supervisor, a test) must stop it as Ctrl-C does, not leave it running.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
            if switch is None:
                continue
            latest = sandbox_switch_value(settings)
            if latest != switch and mirror_switch(settings, latest):
                switch = latest
                say(f"auth switch: {SWITCH_SECRET} is now {latest or 'unset'} on the sandbox's Worker; reloading "
                    "wrangler dev with it")
                os.utime(config)  # wrangler reloads on a change of its config file, reading .dev.vars again
        return process.returncode
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(process)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End wrangler and the workerd it started: they share the process group wrangler leads."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
