"""`mcpdeploy plan` and `mcpdeploy provision`: the same pipeline, the second one applies it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from mcpdeploy.cli.output import Activity, emit_json, for_sandbox, make_console
from mcpdeploy.errors import UsageError
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.apply import AppliedChange
    from mcpdeploy.plan.models import Plan
    from mcpdeploy.provision import ProvisionOutcome

# What `provision --deploy` applies before the deploy: everything but the Worker's secrets.
BEFORE_DEPLOY = ("xano", "cloudflare", "file")
XANO_URL = typer.Option(None, "--xano-instance-url", help="Xano instance URL. [env var: XANO_INSTANCE_URL]")
WORKSPACE = typer.Option(None, "--xano-workspace-id", help="Xano workspace id. [env var: XANO_WORKSPACE_ID]")
BRANCH = typer.Option(None, "--xano-branch", help="Xano branch label; empty means live. [env var: XANO_BRANCH]")


def _flags(xano_url: str | None, workspace: int | None, branch: str | None) -> dict[str, Any]:
    return {"xano.instance_url": xano_url, "xano.workspace_id": workspace, "xano.branch": branch}


@app.command("plan", epilog=examples(
    "mcpdeploy plan --sandbox",
    "mcpdeploy plan --env production --out plan.json",
    "mcpdeploy plan --detailed-exitcode   # exit 2 when there are changes (CI)",
))
def plan_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 2 when the plan has changes."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", dir_okay=False,
                                    help="Also save the plan, for `provision --plan FILE`."),
    xano_url: str | None = XANO_URL,
    workspace: int | None = WORKSPACE,
    branch: str | None = BRANCH,
) -> int:
    """Show what provision would change. Reads only; writes nothing anywhere."""
    # Imported here, not at the top: every start of the CLI imports this module to register its commands.
    from mcpdeploy.pipeline import open_pipeline
    from mcpdeploy.plan.render import render_plan

    console = make_console()
    started = time.monotonic()
    activity = Activity(console)
    with command_settings(project_dir, env, sandbox, _flags(xano_url, workspace, branch)) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options:
        pipeline = open_pipeline(settings, options)
        try:
            activity.show("Planning: reading what exists in Xano and Cloudflare")
            plan = pipeline.plan()
        finally:
            activity.stop()
            pipeline.close()
    render_plan(console, plan, notes=[for_sandbox(n, sandbox) for n in plan.notes])
    if out is not None:
        from mcpdeploy.plan.saved import save_plan

        save_plan(plan, out)
        console.print(f"Plan saved to {out} (digest {plan.digest()}).", markup=False)
    if json_output:
        emit_json({"command": "plan", **plan.to_json(), "outputs": pipeline.outputs,
                   "http": dict(options.counts), "seconds": round(time.monotonic() - started, 3)}, "plan")
    if detailed_exitcode and plan.has_changes:
        return int(ExitCode.CHANGES_PRESENT)
    return int(ExitCode.OK)


@app.command("provision", epilog=examples(
    "mcpdeploy provision --sandbox",
    "mcpdeploy provision --env production --yes",
    "mcpdeploy provision --plan plan.json --yes   # apply exactly a reviewed plan",
))
def provision_command(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
    yes: bool = YES,
    allow_destructive: bool = typer.Option(
        False, "--allow-destructive", help="Apply changes that delete or retype fields or remove endpoints."
    ),
    saved_plan: Path | None = typer.Option(
        None, "--plan", metavar="FILE", dir_okay=False,
        help="Apply the plan saved by `plan --out FILE`, only if planning again gives the same changes (no prompt: "
             "the saved plan is what was approved).",
    ),
    xano_url: str | None = XANO_URL,
    workspace: int | None = WORKSPACE,
    branch: str | None = BRANCH,
    deploy: bool = typer.Option(
        False, "--deploy", help="The whole checklist: the resources, then the Worker's deploy (`mcpdeploy deploy`), "
                                "then its secrets, the order in which Cloudflare accepts them."),
) -> int:
    """Plan, confirm, and apply: create what the schemas declare and is missing, update what differs."""
    from mcpdeploy.errors import InconsistentResult
    from mcpdeploy.plan.render import render_applied, render_plan
    from mcpdeploy.plan.saved import saved_digest
    from mcpdeploy.provision import run_provision

    expected = saved_digest(saved_plan) if saved_plan is not None else None

    console = make_console()
    activity = Activity(console)
    started = time.monotonic()
    at_prompt = [0.0]  # seconds spent answering the confirmation(s)
    argv = ["provision", *(["--env", env] if env else []), *(["--sandbox"] if sandbox else []),
            *(["--allow-destructive"] if allow_destructive else [])]
    with command_settings(project_dir, env, sandbox, _flags(xano_url, workspace, branch)) as settings, \
            http_options(trace, settings, timeout=timeout, deadline=deadline) as options:

        def confirm_then_announce() -> None:
            asked = time.monotonic()
            confirm("Apply these changes?", yes=yes or saved_plan is not None)
            # "Applied ... in N s" is the work's time: minutes spent reading the plan at the prompt do not count.
            at_prompt[0] += time.monotonic() - asked
            console.print("Applying:")
            activity.show("Applying the first change")

        def show_plan(plan: Plan) -> None:
            activity.stop()
            render_plan(console, plan, notes=[for_sandbox(n, sandbox) for n in plan.notes])

        def applied(done: AppliedChange) -> None:
            render_applied(console, done)
            activity.show("Applying the next change")

        def provision(only: tuple[str, ...] | None) -> ProvisionOutcome:
            activity.show("Planning: reading what exists in Xano and Cloudflare")
            try:
                return run_provision(
                    settings, options, allow_destructive=allow_destructive, argv=argv,
                    show_plan=show_plan, confirm=confirm_then_announce, on_applied=applied,
                    on_warning=lambda message: console.print(f"warning: {message}", markup=False),
                    expected=(saved_plan, expected) if saved_plan is not None and expected is not None else None,
                    only=only,
                )
            finally:
                activity.stop()

        deployed: dict[str, Any] | None = None
        first: ProvisionOutcome | None = None
        if deploy:
            # A secrets push is refused (10214/10215) while the latest version is not the deployed one, and made
            # for a Worker that does not exist yet it would be skipped: so resources first, then the deploy, then
            # a second pass for the secrets (and a consumer wrangler did not make), each under the lock.
            if saved_plan is not None:
                raise UsageError("--deploy plans twice (before and after the deploy): it cannot apply a saved plan.")
            first = provision(BEFORE_DEPLOY)
            if first.result is not None and not first.result.ok:
                outcome = first
            else:
                from mcpdeploy.cli.deploy import deploy_worker

                flags = [*(["--env", env] if env else []), *(["--sandbox"] if sandbox else [])]
                deployed = deploy_worker(settings, options, console, flags).to_json()
                outcome = provision(None)
        else:
            outcome = provision(None)
    seconds = round(time.monotonic() - started - at_prompt[0], 3)
    report: dict[str, Any] = {"command": "provision", **outcome.plan.to_json(), "run_id": outcome.run_id,
                              **({"deploy": deployed} if deploy else {})}
    if first is not None and first is not outcome and first.result is not None:
        report["before_deploy"] = {"run_id": first.run_id, "applied": [a.to_json() for a in first.result.applied]}
    result = outcome.result
    if result is None:
        console.print(f"No changes: nothing was written ({options.counts['requests']} reads).")
        _print_outputs(console, outcome.outputs)
        if json_output:
            emit_json(report | {"applied": [], "changed": False, "outputs": outcome.outputs,
                                "http": dict(options.counts), "seconds": seconds}, "provision")
        return int(ExitCode.OK)
    if result.ok:
        console.print(f"Applied {len(result.applied)} change(s) in {seconds:g}s "
                      f"({options.counts['requests']} HTTP calls, {options.counts['writes']} writes); "
                      f"run {outcome.run_id}.")
        _print_outputs(console, result.outputs)
    if json_output:
        emit_json(report | {"applied": [a.to_json() for a in result.applied], "changed": bool(result.applied),
                            "ok": result.ok, "error": result.error.message if result.error else None,
                            "outputs": result.outputs, "http": dict(options.counts), "seconds": seconds}, "provision")
    if result.error is not None:
        advice = (f"Finished steps are kept: run provision again to retry the rest, or undo them with "
                  f"`mcpdeploy rollback --run {outcome.run_id}`.")
        if isinstance(result.error, InconsistentResult):
            advice = f"The run is journaled as {outcome.run_id}; `mcpdeploy rollback --run {outcome.run_id}` undoes it."
        result.error.hint = f"{result.error.hint} {advice}" if result.error.hint else advice
        raise result.error
    return int(ExitCode.OK)


def _print_outputs(console: Console, outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        if not isinstance(value, dict):
            console.print(f"  {key}: {value}", markup=False)
