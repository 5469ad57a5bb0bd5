"""`mcpdeploy rollback --run RUN_ID|last`: undo a provision run. The `rollback` command hands over to
`undo_run_command` when --run is given; everything here is rendering around mcpdeploy.rollback.undo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpdeploy.errors import DestructiveChangeBlocked
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from mcpdeploy.cli.context import CommandContext

MARKS = {"will_undo": "-", "already_undone": "=", "needs_data_loss": "!", "cannot_undo": "x", "left_alone": "~"}


def undo_run_command(ctx: CommandContext, *, run: str, dry_run: bool, allow_data_loss: bool) -> int:
    from mcpdeploy.providers.cloudflare import CloudflareClient
    from mcpdeploy.providers.xano import XanoClient
    from mcpdeploy.rollback.undo import UndoContext, plan_undo
    from mcpdeploy.state import open_state
    from mcpdeploy.state.journal import Journal
    from mcpdeploy.state.lock import Lock

    console = ctx.console
    with ctx.services() as (settings, options):
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
                  on_takeover=ctx.warn):
            undo = UndoContext(xano, cloudflare, settings.project_dir, backups, allow_data_loss)
            steps = plan_undo(target, undo)
            console.print(f"Undo run {target.run_id} ({target.command} by {target.who} at {target.time:%Y-%m-%d %H:%M} "
                          f"UTC, {target.outcome}), newest change first:", markup=False)
            for step in steps:
                console.print(f"  {MARKS[step.status]} {step.resource}: {step.reason}", markup=False)
            report: dict[str, Any] = {"mode": "undo_run", "run_id": target.run_id,
                                      "dry_run": dry_run, "steps": [s.to_json() for s in steps]}
            pending = [s for s in steps if s.status == "will_undo"]
            refused = [s for s in steps if s.status == "needs_data_loss"]
            if dry_run:
                console.print("Dry run: nothing was changed.", markup=False)
                ctx.emit(report | {"applied": []}, "rollback-run")
                return int(ExitCode.OK)
            if refused:
                raise DestructiveChangeBlocked(
                    f"undoing run {target.run_id} would lose data: " + "; ".join(s.resource for s in refused),
                    hint="Nothing was changed. Run again with --allow-data-loss: rows are exported to "
                         ".mcpdeploy/backups/ and the export is verified before anything is removed.",
                )
            if not pending:
                console.print(f"Nothing to undo: run {target.run_id} is already rolled back.", markup=False)
                ctx.emit(report | {"applied": []}, "rollback-run")
                return int(ExitCode.OK)
            ctx.confirm(f"Undo {len(pending)} change(s) of run {target.run_id}?")
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
                    ctx.event("applied", change=entry)
            xano.close()
            if cloudflare is not None:
                cloudflare.close()
    console.print(f"Undid {len(applied)} change(s) of run {target.run_id}.", markup=False)
    ctx.emit(report | {"applied": applied}, "rollback-run")
    return int(ExitCode.OK)
