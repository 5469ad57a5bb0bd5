"""`mcpdeploy state push` and `mcpdeploy state pull`: move an environment's journal and secret-push record between
`.mcpdeploy/` and the shared backend of `[state]`."""

from __future__ import annotations

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.context import LOCAL, CommandContext, command

state_app = typer.Typer(help="Copy the journal and the secret-push record between .mcpdeploy/ and [state]'s "
                             "shared backend (R2, S3).")
app.add_typer(state_app, name="state")


@command(state_app, "push", shared=LOCAL)
def push_command(ctx: CommandContext) -> int:
    """Copy to the shared backend the runs and the record it lacks (running it again copies nothing)."""
    return _copy(ctx, "push")


@command(state_app, "pull", shared=LOCAL)
def pull_command(ctx: CommandContext) -> int:
    """Copy into .mcpdeploy/ the runs and the record it lacks (running it again copies nothing)."""
    return _copy(ctx, "pull")


def _copy(ctx: CommandContext, direction: str) -> int:
    from mcpdeploy.state import open_state
    from mcpdeploy.state.journal import environment_file_stem
    from mcpdeploy.state.local import LocalBackend
    from mcpdeploy.state.migrate import pull, push, require_shared

    console = ctx.console
    with ctx.settings() as settings:
        stem = environment_file_stem(settings.env_name)
        local = LocalBackend(settings.state_dir)
        remote = require_shared(open_state(settings))
        try:
            done = push(local, remote, stem) if direction == "push" else pull(remote, local, stem)
        finally:
            remote.close()
    source, target = (settings.state_dir, remote.describe("")) if direction == "push" else \
        (remote.describe(""), settings.state_dir)
    ctx.emit({"environment": stem, "from": str(source), "to": str(target),
              "runs_copied": done.runs, "records_copied": done.records, "already_there": done.present,
              "differing_left_alone": done.kept})
    if done.runs or done.records:
        console.print(f"Copied {len(done.runs)} run(s) and {len(done.records)} record(s) of environment {stem!r} "
                      f"from {source} to {target}.", markup=False)
    else:
        console.print(f"Nothing to copy: {target} already holds everything of environment {stem!r} that {source} "
                      "holds.", markup=False)
    for item in done.kept:
        ctx.warn(f"{item} differs between the two sides; it was left as it is on {target}.")
    return 0
