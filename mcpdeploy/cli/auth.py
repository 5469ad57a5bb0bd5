"""`mcpdeploy auth disable|enable|status`: switch the MCP Worker's key check off for a while, on again, or look.

The switch is the Worker secret MCP_AUTH_DISABLED_UNTIL (see mcpdeploy.auth_switch); it only has an effect on a
Worker that includes templates/worker/auth-switch.mjs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import (
    DEADLINE,
    ENV,
    JSON,
    PROJECT_DIR,
    SANDBOX,
    TIMEOUT,
    TRACE,
    YES,
    command_settings,
    confirm,
    examples,
    http_options,
)
from mcpdeploy.cli.output import emit_json, make_console

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from mcpdeploy.auth_switch import SwitchStatus

auth_app = typer.Typer(help="Switch the Worker's API-key check off for a limited time, back on, or show it.",
                       epilog=examples("mcpdeploy auth status", "mcpdeploy auth disable --for 15m",
                                       "mcpdeploy auth enable"),
                       no_args_is_help=True)
app.add_typer(auth_app, name="auth")

FOR = typer.Option(..., "--for", metavar="DURATION", help="How long auth stays off: 90s, 15m, 1h (at most 1h unless "
                   "[auth] max_disable in mcpdeploy.toml allows more, up to 24h).")


@auth_app.command("disable", epilog=examples("mcpdeploy auth disable --for 15m --sandbox"))
def disable_command(
    duration_text: str = FOR,
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    yes: bool = YES,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
) -> int:
    """Let requests without an API key through until now + DURATION; auth comes back by itself after that."""
    from mcpdeploy.auth_switch import checked_duration, format_duration, iso, run_disable
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.state import open_state

    console = make_console()
    with command_settings(project_dir, env, sandbox) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options, \
            worker_client(settings, options) as (client, worker):
        duration = checked_duration(duration_text, settings.auth.max_disable)

        def ask(status: SwitchStatus, until: datetime) -> None:
            if status.state == "off" and status.until is not None:
                console.print(f"Auth is already off on {worker} until {iso(status.until)}; this replaces that.",
                              markup=False)
            confirm(f"Switch authentication OFF on {worker} for {format_duration(duration)} (until about "
                    f"{iso(until)})? Anyone will be able to call it without a key.", yes=yes)

        outcome = run_disable(client, open_state(settings), settings.env_name, options.redactor, worker=worker,
                              duration=duration,
                              argv=["auth", "disable", "--for", duration_text, *_flags(env, sandbox)],
                              confirm=ask, on_warning=lambda text: console.print(f"warning: {text}", markup=False))
    until = outcome.change.until
    assert until is not None
    _banner(console, worker, iso(until), format_duration(duration), _flags(env, sandbox))
    if json_output:
        emit_json({"command": "auth disable", "worker": worker, "auth": "off", "disabled_until": iso(until),
                   "seconds": int(duration.total_seconds()), "replaced": outcome.change.was_set,
                   "run_id": outcome.run_id, "http": dict(options.counts)}, "auth-disable")
    return 0


@auth_app.command("enable", epilog=examples("mcpdeploy auth enable --env production"))
def enable_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
    yes: bool = typer.Option(False, "--yes", "-y", help="Accepted for uniform CI scripts: enable never asks."),
) -> int:
    """Switch authentication back on now by removing the switch (nothing to do when it is not set)."""
    from mcpdeploy.auth_switch import SWITCH_SECRET, run_enable
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.state import open_state

    console = make_console()
    with command_settings(project_dir, env, sandbox) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options, \
            worker_client(settings, options) as (client, worker):
        outcome = run_enable(client, open_state(settings), settings.env_name, options.redactor, worker=worker,
                             argv=["auth", "enable", *_flags(env, sandbox)],
                             on_warning=lambda text: console.print(f"warning: {text}", markup=False))
    if outcome.change.changed:
        console.print(f"Authentication is back ON for {worker}: removed {SWITCH_SECRET} (a new Worker version, "
                      "deployed).", markup=False)
    else:
        console.print(f"Nothing to do: {SWITCH_SECRET} is not set on {worker}, so authentication is on. Nothing "
                      "was changed.", markup=False)
    if json_output:
        emit_json({"command": "auth enable", "worker": worker, "auth": "on", "changed": outcome.change.changed,
                   "run_id": outcome.run_id, "http": dict(options.counts)}, "auth-enable")
    return 0


@auth_app.command("status", epilog=examples("mcpdeploy auth status --json"))
def status_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
) -> int:
    """Show whether the Worker's API-key check is on, and how long it stays off. Reads only."""
    from mcpdeploy.auth_switch import format_duration, iso, read_status, utc_now
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.journal import Journal
    from mcpdeploy.state import open_state

    # The answer is the command's data (stdout), unless the JSON document already is.
    console = make_console(data=not json_output)
    with command_settings(project_dir, env, sandbox) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options, \
            worker_client(settings, options) as (client, worker):
        status = read_status(client, worker, Journal(open_state(settings), settings.env_name), utc_now())
    left = status.time_left
    if status.state == "off" and left is not None and status.until is not None:
        console.print(f"Authentication is OFF for {worker} until {iso(status.until)} ({format_duration(left)} left). "
                      f"Turn it back on now: {_command('enable', env, sandbox)}", markup=False)
    elif status.state == "unknown":
        console.print(f"Authentication may be OFF for {worker}: the switch is set, but not by an `auth disable` "
                      "recorded in this project's journal, and Cloudflare never shows a secret's value. Make sure "
                      f"it is on: {_command('enable', env, sandbox)}", markup=False)
    elif status.expired_leftover and status.until is not None:
        console.print(f"Authentication is ON for {worker}: the switch expired at {iso(status.until)}. "
                      f"`{_command('enable', env, sandbox)}` removes the leftover secret.", markup=False)
    else:
        console.print(f"Authentication is ON for {worker} (the switch is not set).", markup=False)
    if json_output:
        emit_json({"command": "auth status", **status.to_json(), "http": dict(options.counts)}, "auth-status")
    return 0


def _flags(env: str | None, sandbox: bool) -> list[str]:
    return [*(["--env", env] if env else []), *(["--sandbox"] if sandbox else [])]


def _command(action: str, env: str | None, sandbox: bool) -> str:
    return " ".join(["mcpdeploy", "auth", action, *_flags(env, sandbox)])


def _banner(console: Console, worker: str, until: str, duration: str, flags: list[str]) -> None:
    """Loud on purpose: whoever ran this, and whoever reads the CI log, must not miss that the door is open."""
    from mcpdeploy.auth_switch import SWITCH_SECRET

    enable = " ".join(["mcpdeploy", "auth", "enable", *flags])
    rule = "!" * 78
    lines = [
        rule,
        f"!! WARNING: AUTHENTICATION IS OFF for Worker {worker}",
        f"!! until {until} ({duration} from now); it comes back by itself then.",
        "!! Anyone who knows the URL can call it without an API key.",
        f"!! Turn it back on now with: {enable}",
        f"!! (Only a Worker that includes templates/worker/auth-switch.mjs honours {SWITCH_SECRET}.)",
        rule,
    ]
    for line in lines:
        console.print(line, markup=False, style="bold red")
