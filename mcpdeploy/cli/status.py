"""`mcpdeploy status`: the checklist's Monitoring section as one command (Worker traffic, queue health, the Xano
tables), with a verdict for people and CI: exit 0 healthy, 12 degraded, 7 a source could not be read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, SANDBOX, TRACE, command_settings, examples, http_options

if TYPE_CHECKING:
    from mcpdeploy.config import Settings
    from mcpdeploy.monitor.model import Health

EXIT_FOR = {"healthy": 0, "degraded": 12, "unreachable": 7}


@app.command("status", epilog=examples(
    "mcpdeploy status --sandbox",
    "mcpdeploy status --env production --since 24h",
    "mcpdeploy status --watch",
))
def status(
    since: str = typer.Option("1h", "--since", help="The window to look at: 1h, 24h or 7d."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Redraw the dashboard in place until Ctrl-C."),
    interval: float = typer.Option(30.0, "--interval", min=1.0, max=3600.0,
                                   help="Seconds between two reads with --watch."),
    max_rows: int = typer.Option(5000, "--max-rows", min=1, max=100_000,
                                 help="Usage rows read at most (newest first); counts stay exact beyond it."),
    rounds: int = typer.Option(0, "--rounds", hidden=True, help="Stop --watch after this many reads (tests)."),
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    as_json: bool = JSON,
    trace: Path | None = TRACE,
) -> int:
    """Worker requests and errors, the usage queue's backlog and consumer, sessions and usage in Xano, and a
    verdict. Exit codes: 0 healthy, 12 degraded, 7 a source could not be read."""
    from mcpdeploy.errors import UsageError
    from mcpdeploy.monitor.window import WINDOWS

    if since not in WINDOWS:
        raise UsageError(f"--since {since!r}: choose one of {', '.join(WINDOWS)}")
    if watch and as_json:
        raise UsageError("--watch redraws a dashboard for people; use --json without --watch (once per run)")
    flag = " --sandbox" if sandbox else f" --env {env}" if env else ""
    with command_settings(project_dir, env, sandbox) as settings:
        if watch:
            return _watch(settings, trace, since, interval, max_rows, flag, rounds)
        health = _read(settings, trace, since, max_rows, flag)
    if as_json:
        from mcpdeploy.cli.output import emit_json

        emit_json(health.to_json(), "status")
    else:
        from mcpdeploy.cli.output import make_console
        from mcpdeploy.monitor.render import dashboard

        make_console().print(dashboard(health))
    return EXIT_FOR[health.verdict]


def _read(settings: Settings, trace: Path | None, since: str, max_rows: int, flag: str) -> Health:
    from datetime import datetime, timezone

    from mcpdeploy.monitor.collect import collect
    from mcpdeploy.monitor.window import parse_since

    now = datetime.now(timezone.utc)
    with http_options(trace, settings) as options:
        # Monitoring answers within seconds or says it cannot: a dead service must not hold a watch for minutes.
        options.max_retries = min(options.max_retries, 2)
        return collect(settings, options, parse_since(since, now), now=now, max_rows=max_rows, env_flag=flag)


def _watch(settings: Settings, trace: Path | None, since: str, interval: float, max_rows: int, flag: str,
           rounds: int) -> int:
    from rich.live import Live

    from mcpdeploy.cli.output import make_console
    from mcpdeploy.monitor.render import dashboard

    console = make_console()
    health = _read(settings, trace, since, max_rows, flag)
    done = 1
    try:
        with Live(dashboard(health), console=console, auto_refresh=False, transient=False) as live:
            while not rounds or done < rounds:
                time.sleep(interval)
                health = _read(settings, trace, since, max_rows, flag)
                done += 1
                live.update(dashboard(health), refresh=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a watch; the exit code is the last verdict's
    return EXIT_FOR[health.verdict]
