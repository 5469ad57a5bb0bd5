"""`mcpdeploy auth disable|enable|status`: switch the MCP Worker's key check off for a while, on again, or look.

The switch is the Worker secret MCP_AUTH_DISABLED_UNTIL (see mcpdeploy.rollback.auth_switch); it only has an effect on a
Worker that includes templates/worker/auth-switch.mjs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import SERVICES, CommandContext, command
from mcpdeploy.cli.output import make_console

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from mcpdeploy.rollback.auth_switch import SwitchStatus

auth_app = typer.Typer(help="Switch the Worker's API-key check off for a limited time, back on, or show it.",
                       epilog=examples("mcpdeploy auth status", "mcpdeploy auth disable --for 15m",
                                       "mcpdeploy auth enable"),
                       no_args_is_help=True)
app.add_typer(auth_app, name="auth")

FOR = typer.Option(..., "--for", metavar="DURATION", help="How long auth stays off: 90s, 15m, 1h (at most 1h unless "
                   "[auth] max_disable in mcpdeploy.toml allows more, up to 24h).")


@command(auth_app, "disable", shared=(*SERVICES, "yes"), epilog=examples("mcpdeploy auth disable --for 15m --sandbox"))
def disable_command(ctx: CommandContext, duration_text: str = FOR) -> int:
    """Let requests without an API key through until now + DURATION; auth comes back by itself after that."""
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.rollback.auth_switch import checked_duration, format_duration, iso, run_disable
    from mcpdeploy.state import open_state

    console = ctx.console
    with ctx.services() as (settings, options), worker_client(settings, options) as (client, worker):
        duration = checked_duration(duration_text, settings.auth.max_disable)

        def ask(status: SwitchStatus, until: datetime) -> None:
            if status.state == "off" and status.until is not None:
                console.print(f"Auth is already off on {worker} until {iso(status.until)}; this replaces that.",
                              markup=False)
            ctx.confirm(f"Switch authentication OFF on {worker} for {format_duration(duration)} (until about "
                        f"{iso(until)})? Anyone will be able to call it without a key.")

        outcome = run_disable(client, open_state(settings), settings.env_name, options.redactor, worker=worker,
                              duration=duration,
                              argv=["auth", "disable", "--for", duration_text, *ctx.target_flags()],
                              confirm=ask, on_warning=ctx.warn)
    until = outcome.change.until
    assert until is not None
    _banner(console, worker, iso(until), format_duration(duration), ctx.target_flags())
    ctx.emit({"worker": worker, "auth": "off", "disabled_until": iso(until), "seconds": int(duration.total_seconds()),
              "replaced": outcome.change.was_set, "run_id": outcome.run_id, "http": dict(options.counts)})
    return 0


@command(auth_app, "enable", epilog=examples("mcpdeploy auth enable --env production"))
def enable_command(
    ctx: CommandContext,
    yes: bool = typer.Option(False, "--yes", "-y", help="Accepted for uniform CI scripts: enable never asks."),
) -> int:
    """Switch authentication back on now by removing the switch (nothing to do when it is not set)."""
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.rollback.auth_switch import SWITCH_SECRET, run_enable
    from mcpdeploy.state import open_state

    console = ctx.console
    with ctx.services() as (settings, options), worker_client(settings, options) as (client, worker):
        outcome = run_enable(client, open_state(settings), settings.env_name, options.redactor, worker=worker,
                             argv=["auth", "enable", *ctx.target_flags()], on_warning=ctx.warn)
    if outcome.change.changed:
        console.print(f"Authentication is back ON for {worker}: removed {SWITCH_SECRET} (a new Worker version, "
                      "deployed).", markup=False)
    else:
        console.print(f"Nothing to do: {SWITCH_SECRET} is not set on {worker}, so authentication is on. Nothing "
                      "was changed.", markup=False)
    ctx.emit({"worker": worker, "auth": "on", "changed": outcome.change.changed, "run_id": outcome.run_id,
              "http": dict(options.counts)})
    return 0


@command(auth_app, "status", epilog=examples("mcpdeploy auth status --json"))
def status_command(ctx: CommandContext) -> int:
    """Show whether the Worker's API-key check is on, and how long it stays off. Reads only."""
    from mcpdeploy.cli.rollback import worker_client
    from mcpdeploy.rollback.auth_switch import format_duration, iso, read_status, utc_now
    from mcpdeploy.state import open_state
    from mcpdeploy.state.journal import Journal

    # The answer is the command's data (stdout), unless the JSON document already is.
    console = make_console(data=not ctx.json_output)
    with ctx.services() as (settings, options), worker_client(settings, options) as (client, worker):
        status = read_status(client, worker, Journal(open_state(settings), settings.env_name), utc_now())
    left = status.time_left
    if status.state == "off" and left is not None and status.until is not None:
        console.print(f"Authentication is OFF for {worker} until {iso(status.until)} ({format_duration(left)} left). "
                      f"Turn it back on now: {_command('enable', ctx)}", markup=False)
    elif status.state == "unknown":
        console.print(f"Authentication may be OFF for {worker}: the switch is set, but not by an `auth disable` "
                      "recorded in this project's journal, and Cloudflare never shows a secret's value. Make sure "
                      f"it is on: {_command('enable', ctx)}", markup=False)
    elif status.expired_leftover and status.until is not None:
        console.print(f"Authentication is ON for {worker}: the switch expired at {iso(status.until)}. "
                      f"`{_command('enable', ctx)}` removes the leftover secret.", markup=False)
    else:
        console.print(f"Authentication is ON for {worker} (the switch is not set).", markup=False)
    ctx.emit({**status.to_json(), "http": dict(options.counts)})
    return 0


def _command(action: str, ctx: CommandContext) -> str:
    return " ".join(["mcpdeploy", "auth", action, *ctx.target_flags()])


def _banner(console: Console, worker: str, until: str, duration: str, flags: list[str]) -> None:
    """Loud on purpose: whoever ran this, and whoever reads the CI log, must not miss that the door is open."""
    from mcpdeploy.rollback.auth_switch import SWITCH_SECRET

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
