"""`mcpdeploy state push` and `mcpdeploy state pull`: move an environment's journal and secret-push record between
`.mcpdeploy/` and the shared backend of `[state]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, command_settings
from mcpdeploy.cli.output import emit_json, make_console

state_app = typer.Typer(help="Copy the journal and the secret-push record between .mcpdeploy/ and [state]'s "
                             "shared backend (R2, S3).")
app.add_typer(state_app, name="state")


@state_app.command("push")
def push_command(project_dir: Path = PROJECT_DIR, env: str | None = ENV, json_output: bool = JSON) -> int:
    """Copy to the shared backend the runs and the record it lacks (running it again copies nothing)."""
    return _copy("push", project_dir, env, json_output)


@state_app.command("pull")
def pull_command(project_dir: Path = PROJECT_DIR, env: str | None = ENV, json_output: bool = JSON) -> int:
    """Copy into .mcpdeploy/ the runs and the record it lacks (running it again copies nothing)."""
    return _copy("pull", project_dir, env, json_output)


def _copy(direction: str, project_dir: Path, env: str | None, json_output: bool) -> int:
    from mcpdeploy.journal import environment_file_stem
    from mcpdeploy.state import open_state
    from mcpdeploy.state.local import LocalBackend
    from mcpdeploy.state.migrate import pull, push, require_shared

    console = make_console()
    with command_settings(project_dir, env, sandbox=False) as settings:
        stem = environment_file_stem(settings.env_name)
        local = LocalBackend(settings.state_dir)
        remote = require_shared(open_state(settings))
        try:
            done = push(local, remote, stem) if direction == "push" else pull(remote, local, stem)
        finally:
            remote.close()
    source, target = (settings.state_dir, remote.describe("")) if direction == "push" else \
        (remote.describe(""), settings.state_dir)
    if json_output:
        emit_json({"command": f"state {direction}", "environment": stem, "from": str(source), "to": str(target),
                   "runs_copied": done.runs, "records_copied": done.records, "already_there": done.present,
                   "differing_left_alone": done.kept}, f"state-{direction}")
    if done.runs or done.records:
        console.print(f"Copied {len(done.runs)} run(s) and {len(done.records)} record(s) of environment {stem!r} "
                      f"from {source} to {target}.", markup=False)
    else:
        console.print(f"Nothing to copy: {target} already holds everything of environment {stem!r} that {source} "
                      "holds.", markup=False)
    for item in done.kept:
        console.print(f"warning: {item} differs between the two sides; it was left as it is on {target}.",
                      markup=False)
    return 0
