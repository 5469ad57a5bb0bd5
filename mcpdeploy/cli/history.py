"""`mcpdeploy history` (the journal of runs, per environment) and `mcpdeploy unlock` (a lock nobody will release)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, command_settings, examples
from mcpdeploy.cli.context import CommandContext, command
from mcpdeploy.cli.output import emit_json, make_console
from mcpdeploy.errors import McpdeployError, ServiceError, UsageError

# The journal (pydantic models) and the lock are imported by the functions that use them: this module is
# imported on every start of the CLI.
if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.state.journal import ChangeRecord, Journal, JournalReading, RunDetail

history_app = typer.Typer(
    help="The runs that changed an environment (provision, rollback, ...), newest first.",
    epilog=examples("mcpdeploy history", "mcpdeploy history --env production | grep rollback",
                    "mcpdeploy history show last"),
    invoke_without_command=True,
)
app.add_typer(history_app, name="history")

LIMIT = typer.Option(20, "--limit", "-n", metavar="N", min=0, help="Show at most N runs (0: all).")


@history_app.callback()
def list_runs(
    ctx: typer.Context,
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    json_output: bool = JSON,
    limit: int = LIMIT,
) -> int:
    """List recorded runs: id, time, who, command, outcome, changes."""
    ctx.obj = {"project_dir": project_dir, "env": env, "json": json_output}
    if ctx.invoked_subcommand is not None:
        return 0
    console = make_console()
    journal, reading = _read(project_dir, env)
    _report_skipped(console, reading)
    runs = reading.runs()
    shown = runs[:limit] if limit else runs
    if json_output:
        emit_json({"command": "history", "environment": journal.environment, "journal": str(journal.path),
                   "runs": [r.model_dump(mode="json") for r in shown], "total": len(runs),
                   "skipped_lines": reading.skipped}, "history")
        return 0
    if not runs:
        console.print(f"No runs recorded for environment {_env_label(journal)} yet ({journal.path}).",
                      markup=False)
        return 0
    console.print(f"Runs on environment {_env_label(journal)} ({journal.path}):", markup=False)
    rows = [[run.run_id, f"{run.time:%Y-%m-%d %H:%M}", run.who, run.command, run.outcome,
             str(run.changed) + (f" ({run.failed} failed)" if run.failed else "")] for run in shown]
    # The table is data (`mcpdeploy history | grep provision`): stdout; the lines around it are messages.
    _print_columns(make_console(data=True), ["RUN ID", "TIME (UTC)", "WHO", "COMMAND", "OUTCOME", "CHANGES"], rows)
    if len(shown) < len(runs):
        console.print(f"{len(runs) - len(shown)} older run(s) not shown; use --limit 0 for all.", markup=False)
    console.print("Details of one run: mcpdeploy history show RUN_ID (or `last`).", markup=False)
    return 0


@history_app.command("show", epilog=examples(
    "mcpdeploy history show last",
    "mcpdeploy history show 20260101T120000Z-3f2a1c --json",
))
def show_run(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., metavar="RUN_ID",
                                 help="A run id (or a unique start of one), or `last`: the newest run that "
                                           "changed something."),
    project_dir: Path | None = typer.Option(None, "--project-dir", "-C", metavar="DIR", file_okay=False,
                                            help="Where .mcpdeploy/ lives (default: the current folder)."),
    env: str | None = ENV,
    json_output: bool = JSON,
) -> int:
    """Show one run: what started it and each change it applied, with the ids it got and what was there before."""
    parent = ctx.obj or {}
    project_dir = project_dir or parent.get("project_dir") or Path(".")
    env = env or parent.get("env")
    json_output = json_output or bool(parent.get("json"))  # `history --json show last` as well
    console = make_console()
    journal, reading = _read(project_dir, env)
    _report_skipped(console, reading)
    detail = reading.run(run_id)
    if json_output:
        emit_json({"command": "history show", "environment": journal.environment, "journal": str(journal.path),
                   "run": detail.model_dump(mode="json")}, "history-show")
        return 0
    _render_detail(make_console(data=True), detail)
    return 0


@command(app, "unlock", shared=("project_dir", "env"), epilog=examples("mcpdeploy unlock --env production --force"))
def unlock(
    ctx: CommandContext,
    force: bool = typer.Option(False, "--force", help="Remove the lock whoever holds it."),
) -> int:
    """Remove an environment's lock that its run can no longer release (a crashed machine, a killed CI job)."""
    from mcpdeploy.state import open_state
    from mcpdeploy.state.journal import environment_file_stem
    from mcpdeploy.state.lock import force_unlock, read_lock, unlock_command

    console = ctx.console
    with ctx.settings() as settings:
        state, env_name = open_state(settings), settings.env_name
    label = env_name or environment_file_stem(None)
    try:
        holder = read_lock(state, env_name)
        described = f"locked by {holder.describe()}" if holder else None
    except ServiceError:  # the shared backend refused or could not be reached: nothing to decide from
        raise
    except McpdeployError as exc:  # an unreadable lock file: exactly what --force is for
        holder, described = None, f"locked, but {exc.message}"
    if described is None:
        console.print(f"Environment {label!r} is not locked.", markup=False)
        return 0
    console.print(f"Environment {label!r} is {described}", markup=False)
    if not force:
        raise UsageError("unlock removes a lock only with --force.",
                         hint=f"If that run is not running any more: {unlock_command(state, env_name)}")
    if holder is not None and holder.running_here():
        ctx.warn(f"process {holder.pid} that took the lock is still running on this host; another run can now "
                 "start alongside it.")
    force_unlock(state, env_name)
    console.print(f"Removed the lock on environment {label!r}.", markup=False)
    return 0


def _read(project_dir: Path, env: str | None) -> tuple[Journal, JournalReading]:
    from mcpdeploy.state import open_state
    from mcpdeploy.state.journal import Journal

    with command_settings(project_dir, env, sandbox=False) as settings:
        journal = Journal(open_state(settings), settings.env_name)
    return journal, journal.read()


def _report_skipped(console: Console, reading: JournalReading) -> None:
    for line in reading.skipped:
        console.print(f"warning: {line}", markup=False)


def _env_label(journal: Journal) -> str:
    from mcpdeploy.state.journal import environment_file_stem

    return journal.environment or environment_file_stem(None)


def _render_detail(console: Console, run: RunDetail) -> None:
    console.print(f"Run {run.run_id}: mcpdeploy {run.command} by {run.who} at {run.time:%Y-%m-%d %H:%M:%S} UTC",
                  markup=False)
    seconds = f" in {run.seconds:g}s" if run.seconds is not None else ""
    console.print(f"  outcome: {run.outcome}{seconds}; {run.changed} change(s) applied, {run.failed} failed",
                  markup=False)
    if run.error:
        console.print(f"  error: {run.error}", markup=False)
    if run.plan_digest:
        console.print(f"  plan digest: {run.plan_digest}", markup=False)
    if run.argv:
        console.print(f"  command line: {' '.join(run.argv)}", markup=False)
    if not run.changes:
        console.print("  No changes were applied.", markup=False)
        return
    # One block per change, wrapped to the terminal (at most 120 columns): a table of ids, hashes and backups ran
    # to 250 columns. The JSON document keeps every value whole.
    width = min(console.width, 120)
    for number, change in enumerate(run.changes, start=1):
        outcome = change.outcome + (f": {change.error}" if change.error else "")
        for line in (_wrapped(f"  {number}. {change.action} {change.resource}: {outcome}", width, 6),
                     _wrapped(f"     ids: {_compact(change.ids)}", width, 10),
                     _wrapped(f"     before: {_before_summary(change)}", width, 10)):
            console.print(line, markup=False, highlight=False)


def _wrapped(text: str, width: int, indent: int) -> str:
    """Wrapped at spaces only: an id or a path is never cut in two, so it can still be copied whole."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width=max(width, 40), subsequent_indent=" " * indent,
                                    break_long_words=False, break_on_hyphens=False)) or text


def _print_columns(console: Console, headers: list[str], rows: list[list[str]]) -> None:
    """Plain aligned columns. Long lines run on instead of being cut or folded: ids and resource names must stay
    whole so they can be copied into the next command."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for cells in [headers, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        console.print(line.rstrip(), markup=False, highlight=False)


# A hex digest or a UUID is shown by its first characters (as git shows a commit): enough to recognise it.
_LONG_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{20,}\b"
                      r"|\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _short(value: object) -> str:
    return _LONG_ID.sub(lambda m: f"{m.group(1) or m.group(2)}…", str(value))


def _compact(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in values.items()) if values else "-"


def _before_summary(change: ChangeRecord) -> str:
    """What undoing needs, shortened: scalar values shown, documents only named by their keys."""
    if change.before is None:
        return "(nothing: created)" if change.action == "create" else "-"
    parts = []
    for key, value in change.before.items():
        if isinstance(value, (dict, list)):
            parts.append(f"{key}=<{len(json.dumps(value))} bytes>")
        else:
            parts.append(f"{key}={_short(value)}")
    return ", ".join(parts) or "-"

