"""`mcpdeploy rollback`: send the Worker's traffic back to its previous version (or `--to` one), safely; with
`--run`, undo what a recorded run did (mcpdeploy.undo)."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator
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
from mcpdeploy.errors import UsageError
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.config import Settings
    from mcpdeploy.providers.cloudflare import CloudflareClient
    from mcpdeploy.providers.http import HttpOptions
    from mcpdeploy.worker_rollback import RollbackPlan

TO = typer.Option(None, "--to", metavar="VERSION_ID", help="Roll back to this Worker version instead of the "
                  "previous deployment's.")
MESSAGE = typer.Option(None, "--message", "-m", metavar="TEXT", help="Annotation recorded on the new deployment "
                       "(Cloudflare keeps 1000 bytes; longer text is cut). [default: mcpdeploy rollback]")
DRY_RUN = typer.Option(False, "--dry-run", help="Say what would happen; change nothing.")
FORCE = typer.Option(False, "--force", help="Deploy the target even though secrets changed since it (Cloudflare "
                     "code 10220); it then runs with its older secret values.")
RUN = typer.Option(None, "--run", metavar="RUN_ID|last", help="Undo what a recorded run changed (see `mcpdeploy "
                   "history`), newest change first.")
ALLOW_DATA_LOSS = typer.Option(False, "--allow-data-loss", help="With --run: also remove tables, fields and the "
                               "queue that hold data, after exporting rows to .mcpdeploy/backups/.")


@app.command("rollback", epilog=examples(
    "mcpdeploy rollback --dry-run",
    "mcpdeploy rollback --env production --yes",
    "mcpdeploy rollback --run last   # undo the newest run that changed something",
))
def rollback_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    to: str | None = TO,
    message: str | None = MESSAGE,
    dry_run: bool = DRY_RUN,
    force: bool = FORCE,
    yes: bool = YES,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
    run: str | None = RUN,
    allow_data_loss: bool = ALLOW_DATA_LOSS,
) -> int:
    """Roll the Worker back to its previous deployment (or --to VERSION_ID), or undo a run with --run.

    The previous deployment is the newest older one that sent 100% of traffic to one version (as `wrangler
    rollback` chooses), skipping the live version, versions that differ from it only in secrets, and code a later
    rollback moved away from; the plan lists what was skipped and why. Exit codes: 0 rolled back or nothing to do,
    4 locked, 6 Cloudflare refused (e.g. secrets changed since that version: see --force), 64 usage.
    """
    if run is not None:
        if to is not None or message is not None or force:
            raise UsageError("--run undoes a recorded run; --to, --message and --force are for a Worker rollback.")
        from mcpdeploy.cli.rollback_run import undo_run_command  # undoing a run lives with mcpdeploy.undo

        return int(undo_run_command(project_dir=project_dir, env=env, sandbox=sandbox, run=run, dry_run=dry_run,
                                    allow_data_loss=allow_data_loss, yes=yes, json_output=json_output, trace=trace,
                                    timeout=timeout, deadline=deadline))
    if allow_data_loss:
        raise UsageError("--allow-data-loss only applies to --run RUN_ID (undoing a provision).")
    return _worker_rollback(project_dir, env, sandbox, to=to, message=message, dry_run=dry_run, force=force, yes=yes,
                            json_output=json_output, trace=trace, timeout=timeout, deadline=deadline)


def _worker_rollback(project_dir: Path, env: str | None, sandbox: bool, *, to: str | None, message: str | None,
                     dry_run: bool, force: bool, yes: bool, json_output: bool, trace: Path | None,
                     timeout: float | None, deadline: float | None) -> int:
    from mcpdeploy.state import open_state
    from mcpdeploy.worker_rollback import journaled_rollbacks, plan_rollback, run_worker_rollback

    console = make_console()
    flags = _given_flags(project_dir, env, sandbox, message)
    with command_settings(project_dir, env, sandbox) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options, \
            worker_client(settings, options) as (client, worker):
        state = open_state(settings)
        if dry_run:
            plan = plan_rollback(client, worker, to=to, message=message,
                                 rollbacks=journaled_rollbacks(state, settings.env_name, worker))
            _show_plan(console, plan)
            if json_output:
                emit_json({"command": "rollback", "dry_run": True, "outcome": _outcome(plan, dry_run=True),
                           **plan.to_json(), "http": dict(options.counts)}, "rollback")
            if not plan.nothing_to_roll_back_to and not plan.already_there:
                console.print("Dry run: nothing was changed.", markup=False)
            return int(ExitCode.OK)

        def ask(plan: RollbackPlan) -> None:
            assert plan.target is not None
            confirm(f"Send all traffic of {worker} to version {plan.target.id}?", yes=yes)

        def force_command(plan: RollbackPlan) -> str:
            assert plan.target is not None
            return shlex.join(["mcpdeploy", "rollback", *flags, "--to", plan.target.id, "--force",
                               *(["--yes"] if yes else [])])

        argv = ["rollback", *flags, *(["--to", to] if to else []), *(["--force"] if force else [])]
        outcome = run_worker_rollback(
            client, state, settings.env_name, options.redactor, worker=worker, to=to, message=message,
            force=force, argv=argv, force_command=force_command, show_plan=lambda p: _show_plan(console, p),
            confirm=ask, on_warning=lambda text: console.print(f"warning: {text}", markup=False),
        )
    plan, result = outcome.plan, outcome.result
    if result is not None:
        assert plan.target is not None
        forced = " (forced past changed secrets: push the current secrets again if needed)" if result.forced else ""
        console.print(f"Rolled back {worker}: version {plan.target.id} now serves 100% of traffic "
                      f"(deployment {result.deployment.id}){forced}; run {outcome.run_id}.", markup=False)
    if json_output:
        emit_json({"command": "rollback", "dry_run": False, "outcome": _outcome(plan, dry_run=False),
                   **plan.to_json(), "run_id": outcome.run_id,
                   "deployment_id": result.deployment.id if result else None,
                   "forced": result.forced if result else False, "http": dict(options.counts)}, "rollback")
    return int(ExitCode.OK)


@contextlib.contextmanager
def worker_client(settings: Settings, options: HttpOptions) -> Iterator[tuple[CloudflareClient, str]]:
    """A Cloudflare client and the Worker's name: [cloudflare] worker_name (MCPDEPLOY_WORKER_NAME), else the
    name wrangler's config gives it for this environment. Shared with `mcpdeploy auth`."""
    from mcpdeploy.config import EnvVars
    from mcpdeploy.files.wrangler import read_worker_name
    from mcpdeploy.providers.cloudflare import CloudflareClient

    cloudflare = settings.cloudflare
    worker = cloudflare.worker_name or read_worker_name(settings.project_dir, settings.env_name)
    if not worker:
        raise UsageError(f"no Worker name: set {EnvVars.WORKER_NAME}, [cloudflare] worker_name in mcpdeploy.toml, "
                         "or `name` in wrangler.toml.", hint="Or try it locally with --sandbox.")
    if cloudflare.api_token is None:
        raise UsageError(f"Cloudflare is not configured: set {EnvVars.CLOUDFLARE_API_TOKEN} (or "
                         f"{EnvVars.CLOUDFLARE_API_TOKEN_FILE}).", hint="Or try it locally with --sandbox.")
    with CloudflareClient(cloudflare.api_base_url, cloudflare.api_token.get_secret_value(),
                          cloudflare.account_id or "", options) as client:
        yield client, worker


def _given_flags(project_dir: Path, env: str | None, sandbox: bool, message: str | None) -> list[str]:
    """The flags that select what this run acts on, to repeat in a suggested command and the journal."""
    flags: list[str] = []
    with contextlib.suppress(OSError):
        if project_dir.resolve() != Path.cwd().resolve():
            flags += ["--project-dir", str(project_dir)]
    flags += ["--env", env] if env else []
    flags += ["--sandbox"] if sandbox else []
    flags += ["--message", message] if message is not None else []
    return flags


def _outcome(plan: RollbackPlan, *, dry_run: bool) -> str:
    if plan.nothing_to_roll_back_to:
        return "nothing_to_roll_back_to"
    if plan.already_there:
        return "already_there"
    return "would_roll_back" if dry_run else "rolled_back"


def _show_plan(console: Console, plan: RollbackPlan) -> None:
    live = plan.live

    def say(text: str) -> None:
        console.print(text, markup=False)

    say(f"Worker {plan.worker}")
    if live is None:
        say("  live:    nothing is deployed")
    else:
        serving = plan.live_version_id or " + ".join(f"{v.version_id} at {v.percentage:g}%" for v in live.versions)
        say(f"  live:    version {serving}, deployed {live.created_on}{_quoted(live.message)}")
    for skipped in plan.skipped:
        say(f"  skipped: version {skipped.version_id}, deployed {skipped.deployed_on}: {skipped.explanation}")
    if plan.nothing_to_roll_back_to:
        why = ("every earlier deployment that sent 100% of traffic to a single version was skipped (above)"
               if plan.skipped else "no earlier deployment sent 100% of traffic to a single version")
        say(f"Nothing to roll back to: {why}. Nothing was changed. Choose a version with --to VERSION_ID "
            "(`wrangler versions list` shows them).")
        return
    target = plan.target
    assert target is not None
    number = f" (#{target.number})" if target.number is not None else ""
    when = "created" if plan.chosen_by == "to" and plan.target_deployment is None else "deployed"
    say(f"  target:  version {target.id}{number}, {when} {plan.target_deployed_on}{_quoted(plan.target_message)}")
    if plan.already_there:
        why = ("the previous deployment ran this same version; pick another with --to VERSION_ID"
               if plan.chosen_by == "previous_deployment" else "it already serves 100% of traffic")
        say(f"Nothing to do: {why}. Nothing was changed.")
        return
    from mcpdeploy.providers.cloudflare_models import MAX_MESSAGE_BYTES

    cut = f" (cut to the {MAX_MESSAGE_BYTES} bytes Cloudflare keeps)" if plan.message_cut else ""
    say(f"  message: {plan.message!r}{cut}")


def _quoted(message: str | None) -> str:
    return f', "{message}"' if message else ""
