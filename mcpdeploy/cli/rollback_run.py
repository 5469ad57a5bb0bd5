"""`mcpdeploy rollback --run RUN_ID|last`: undo a provision run. The `rollback` command hands over to
`undo_run_command` when --run is given; everything here is rendering around mcpdeploy.undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcpdeploy.cli.common import command_settings, confirm, http_options
from mcpdeploy.cli.output import emit_json, make_console
from mcpdeploy.errors import DestructiveChangeBlocked
from mcpdeploy.exit_codes import ExitCode

MARKS = {"will_undo": "-", "already_undone": "=", "needs_data_loss": "!", "cannot_undo": "x", "left_alone": "~"}


def undo_run_command(
    *,
    project_dir: Path,
    env: str | None,
    sandbox: bool,
    run: str,
    dry_run: bool,
    allow_data_loss: bool,
    yes: bool,
    json_output: bool,
    trace: Path | None,
    timeout: float | None = None,
    deadline: float | None = None,
) -> int:
    from mcpdeploy.journal import Journal
    from mcpdeploy.lock import Lock
    from mcpdeploy.providers.cloudflare import CloudflareClient
    from mcpdeploy.providers.xano import XanoClient
    from mcpdeploy.state import open_state
    from mcpdeploy.undo import UndoContext, plan_undo

    console = make_console()
    with command_settings(project_dir, env, sandbox) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options:
        state = open_state(settings)
        journal = Journal(state, settings.env_name, redactor=options.redactor)
        target = journal.run(run, commands={"provision"})
        instance_url, workspace_id, token = settings.require_xano()
        xano = XanoClient(instance_url, token, workspace_id, branch=settings.xano.branch, options=options)
        cf = settings.cloudflare
        cloudflare = (CloudflareClient(cf.api_base_url, cf.api_token.get_secret_value(), cf.account_id,
                                       options=options) if cf.api_token is not None and cf.account_id else None)
        backups = settings.state_dir / "backups" / f"rollback-{target.run_id}"
        with Lock(state, settings.env_name, command="rollback",
                  on_takeover=lambda m: console.print(f"warning: {m}", markup=False)):
            ctx = UndoContext(xano, cloudflare, settings.project_dir, backups, allow_data_loss)
            steps = plan_undo(target, ctx)
            console.print(f"Undo run {target.run_id} ({target.command} by {target.who} at {target.time:%Y-%m-%d %H:%M} "
                          f"UTC, {target.outcome}), newest change first:", markup=False)
            for step in steps:
                console.print(f"  {MARKS[step.status]} {step.resource}: {step.reason}", markup=False)
            report: dict[str, Any] = {"command": "rollback", "mode": "undo_run", "run_id": target.run_id,
                                      "dry_run": dry_run, "steps": [s.to_json() for s in steps]}
            pending = [s for s in steps if s.status == "will_undo"]
            refused = [s for s in steps if s.status == "needs_data_loss"]
            if dry_run:
                console.print("Dry run: nothing was changed.", markup=False)
                if json_output:
                    emit_json(report | {"applied": []}, "rollback-run")
                return int(ExitCode.OK)
            if refused:
                raise DestructiveChangeBlocked(
                    f"undoing run {target.run_id} would lose data: " + "; ".join(s.resource for s in refused),
                    hint="Nothing was changed. Run again with --allow-data-loss: rows are exported to "
                         ".mcpdeploy/backups/ and the export is verified before anything is removed.",
                )
            if not pending:
                console.print(f"Nothing to undo: run {target.run_id} is already rolled back.", markup=False)
                if json_output:
                    emit_json(report | {"applied": []}, "rollback-run")
                return int(ExitCode.OK)
            confirm(f"Undo {len(pending)} change(s) of run {target.run_id}?", yes=yes)
            applied = []
            argv = ["rollback", "--run", target.run_id, *(["--allow-data-loss"] if allow_data_loss else [])]
            with journal.start("rollback", argv, None, {"undoes": target.run_id}) as record:
                for step in pending:
                    assert step.action is not None
                    ids = step.action()
                    entry = {"resource": step.resource, "kind": f"undo_{step.kind}", "action": "delete",
                             "outcome": "done", "ids": ids}
                    record.change(entry)
                    applied.append(entry)
                    console.print(f"  - {step.resource}: undone", markup=False)
            xano.close()
            if cloudflare is not None:
                cloudflare.close()
    console.print(f"Undid {len(applied)} change(s) of run {target.run_id}.", markup=False)
    if json_output:
        emit_json(report | {"applied": applied}, "rollback-run")
    return int(ExitCode.OK)
