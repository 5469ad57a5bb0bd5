"""`mcpdeploy status`: the checklist's Monitoring section as one command (Worker traffic, queue health, the Xano
tables), with a verdict for people and CI: exit 0 healthy, 12 degraded, 7 a source could not be read."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import SERVICES, CommandContext, command

if TYPE_CHECKING:
    from mcpdeploy.monitor.model import Health
    from mcpdeploy.project.settings import Settings

EXIT_FOR = {"healthy": 0, "degraded": 12, "unreachable": 7}


@command(app, "status", shared=SERVICES, epilog=examples(
    "mcpdeploy status --sandbox",
    "mcpdeploy status --env production --since 24h",
    "mcpdeploy status --watch",
))
def status(
    ctx: CommandContext,
    since: str = typer.Option("1h", "--since", metavar="WINDOW", help="The window to look at: 1h, 24h or 7d."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Redraw the dashboard in place until Ctrl-C."),
    interval: float = typer.Option(30.0, "--interval", metavar="SECONDS", min=1.0, max=3600.0,
                                   help="Seconds between two reads with --watch."),
    max_rows: int = typer.Option(5000, "--max-rows", metavar="N", min=1, max=100_000,
                                 help="Usage rows read at most (newest first); counts stay exact beyond it."),
    rounds: int = typer.Option(0, "--rounds", hidden=True, help="Stop --watch after this many reads (tests)."),
) -> int:
    """Worker requests and errors, the usage queue's backlog and consumer, sessions and usage in Xano, and a
    verdict. Exit codes: 0 healthy, 12 degraded, 7 a source could not be read."""
    from mcpdeploy.errors import UsageError
    from mcpdeploy.monitor.window import WINDOWS

    if since not in WINDOWS:
        raise UsageError(f"--since {since!r}: choose one of {', '.join(WINDOWS)}")
    if watch and ctx.json_output:
        raise UsageError("--watch redraws a dashboard for people; use --json without --watch (once per run)")
    flag = " --sandbox" if ctx.sandbox else f" --env {ctx.env}" if ctx.env else ""
    with ctx.settings() as settings:
        if watch:
            return _watch(ctx, settings, since, interval, max_rows, flag, rounds)
        health = _read(ctx, settings, since, max_rows, flag)
    if ctx.json_output:
        ctx.emit(health.to_json())
    else:
        from mcpdeploy.monitor.render import dashboard

        ctx.console.print(dashboard(health))
    return EXIT_FOR[health.verdict]


def _read(ctx: CommandContext, settings: Settings, since: str, max_rows: int, flag: str) -> Health:
    from datetime import datetime, timezone

    from mcpdeploy.monitor.collect import collect
    from mcpdeploy.monitor.window import parse_since

    now = datetime.now(timezone.utc)
    with ctx.http(settings) as options:
        # Monitoring answers within seconds or says it cannot: a dead service must not hold a watch for minutes.
        options.max_retries = min(options.max_retries, 2)
        return collect(settings, options, parse_since(since, now), now=now, max_rows=max_rows, env_flag=flag)


def _watch(ctx: CommandContext, settings: Settings, since: str, interval: float, max_rows: int, flag: str,
           rounds: int) -> int:
    from rich.live import Live

    from mcpdeploy.monitor.render import dashboard

    console = ctx.console
    health = _read(ctx, settings, since, max_rows, flag)
    done = 1
    try:
        with Live(dashboard(health), console=console, auto_refresh=False, transient=False) as live:
            while not rounds or done < rounds:
                time.sleep(interval)
                health = _read(ctx, settings, since, max_rows, flag)
                done += 1
                live.update(dashboard(health), refresh=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a watch; the exit code is the last verdict's
    return EXIT_FOR[health.verdict]
