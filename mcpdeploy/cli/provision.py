"""`mcpdeploy plan` and `mcpdeploy provision`: the same pipeline, the second one applies it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import LONG_RUNNING, CommandContext, command
from mcpdeploy.errors import UsageError
from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.apply import AppliedChange
    from mcpdeploy.plan.models import Plan
    from mcpdeploy.provision.run import ProvisionOutcome

# What `provision --deploy` applies before the deploy: everything but the Worker's secrets.
BEFORE_DEPLOY = ("xano", "cloudflare", "file")
XANO_URL = typer.Option(None, "--xano-instance-url", metavar="URL",
                        help="Xano instance URL. [env var: XANO_INSTANCE_URL]")
WORKSPACE = typer.Option(None, "--xano-workspace-id", metavar="ID",
                         help="Xano workspace id. [env var: XANO_WORKSPACE_ID]")
BRANCH = typer.Option(None, "--xano-branch", metavar="LABEL",
                      help="Xano branch label; empty means live. [env var: XANO_BRANCH]")


def _flags(xano_url: str | None, workspace: int | None, branch: str | None) -> dict[str, Any]:
    return {"xano.instance_url": xano_url, "xano.workspace_id": workspace, "xano.branch": branch}


@command(app, "plan", shared=LONG_RUNNING, epilog=examples(
    "mcpdeploy plan --sandbox",
    "mcpdeploy plan --env production --out plan.json",
    "mcpdeploy plan --detailed-exitcode   # exit 2 when there are changes (CI)",
    "mcpdeploy plan --json-stream        # progress as JSON lines, the plan last",
))
def plan_command(
    ctx: CommandContext,
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 2 when the plan has changes."),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", dir_okay=False,
                                    help="Also save the plan, for `provision --plan FILE`."),
    xano_url: str | None = XANO_URL,
    workspace: int | None = WORKSPACE,
    branch: str | None = BRANCH,
) -> int:
    """Show what provision would change. Reads only; writes nothing anywhere."""
    # Imported here, not at the top: every start of the CLI imports this module to register its commands.
    from mcpdeploy.plan.render import render_plan
    from mcpdeploy.provision.pipeline import open_pipeline

    started = time.monotonic()
    with ctx.services(_flags(xano_url, workspace, branch)) as (settings, options):
        pipeline = open_pipeline(settings, options)
        options.on_request = ctx.activity.request
        try:
            ctx.activity.show("Planning: reading what exists in Xano and Cloudflare")
            plan = pipeline.plan()
        finally:
            ctx.activity.stop()
            pipeline.close()
    render_plan(ctx.console, plan, notes=[ctx.local(n) for n in plan.notes])
    if out is not None:
        from mcpdeploy.plan.saved import save_plan

        save_plan(plan, out)
        ctx.say(f"Plan saved to {out} (digest {plan.digest()}).")
    ctx.emit({**plan.to_json(), "outputs": pipeline.outputs, "http": dict(options.counts),
              "seconds": round(time.monotonic() - started, 3)})
    if detailed_exitcode and plan.has_changes:
        return int(ExitCode.CHANGES_PRESENT)
    return int(ExitCode.OK)


@command(app, "provision", shared=(*LONG_RUNNING, "yes"), epilog=examples(
    "mcpdeploy provision --sandbox",
    "mcpdeploy provision --env production --yes",
    "mcpdeploy provision --plan plan.json --yes   # apply exactly a reviewed plan",
    "mcpdeploy provision --yes --json-stream      # one JSON line per step for a CI log",
))
def provision_command(
    ctx: CommandContext,
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
    from mcpdeploy.apply.render import render_applied
    from mcpdeploy.errors import InconsistentResult
    from mcpdeploy.plan.render import render_plan
    from mcpdeploy.plan.saved import saved_digest
    from mcpdeploy.provision.run import run_provision

    expected = saved_digest(saved_plan) if saved_plan is not None else None

    console = ctx.console
    started = time.monotonic()
    at_prompt = [0.0]  # seconds spent answering the confirmation(s)
    argv = ["provision", *(["--env", ctx.env] if ctx.env else []), *(["--sandbox"] if ctx.sandbox else []),
            *(["--allow-destructive"] if allow_destructive else [])]
    ctx.yes = ctx.yes or saved_plan is not None  # the saved plan is what was approved
    with ctx.services(_flags(xano_url, workspace, branch)) as (settings, options):
        options.on_request = ctx.activity.request
        steps = [0, 0]  # changes applied, changes planned: the spinner counts them

        def confirm_then_announce() -> None:
            asked = time.monotonic()
            ctx.confirm("Apply these changes?")
            # "Applied ... in N s" is the work's time: minutes spent reading the plan at the prompt do not count.
            at_prompt[0] += time.monotonic() - asked
            console.print("Applying:")
            ctx.activity.show(f"Applying changes, 0 of {steps[1]} done")

        def show_plan(plan: Plan) -> None:
            ctx.activity.stop()
            steps[:] = [0, len(plan.changes)]
            render_plan(console, plan, notes=[ctx.local(n) for n in plan.notes])
            ctx.event("plan", summary=plan.summary(), changes=plan.to_json()["changes"])

        def applied(done: AppliedChange) -> None:
            render_applied(console, done)
            ctx.event("applied", change=done.to_json())
            steps[0] += 1
            # Changes run several at a time and are told as each batch ends: the count is of those done. After the
            # last one, provision reads back what it wrote (a plan of the providers it touched).
            ctx.activity.show(f"Applying changes, {steps[0]} of {steps[1]} done" if steps[0] < steps[1]
                              else "Reading back what was applied")

        def provision(only: tuple[str, ...] | None) -> ProvisionOutcome:
            ctx.activity.show("Planning: reading what exists in Xano and Cloudflare")
            try:
                return run_provision(
                    settings, options, allow_destructive=allow_destructive, argv=argv,
                    show_plan=show_plan, confirm=confirm_then_announce, on_applied=applied, on_warning=ctx.warn,
                    expected=(saved_plan, expected) if saved_plan is not None and expected is not None else None,
                    only=only,
                )
            finally:
                ctx.activity.stop()

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

                deployed = deploy_worker(ctx, settings, options).to_json()
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
        ctx.emit(report | {"applied": [], "changed": False, "outputs": outcome.outputs,
                           "http": dict(options.counts), "seconds": seconds})
        return int(ExitCode.OK)
    if result.ok:
        console.print(f"Applied {len(result.applied)} change(s) in {seconds:g}s "
                      f"({options.counts['requests']} HTTP calls, {options.counts['writes']} writes); "
                      f"run {outcome.run_id}.")
        _print_outputs(console, result.outputs)
    ctx.emit(report | {"applied": [a.to_json() for a in result.applied], "changed": bool(result.applied),
                       "ok": result.ok, "error": result.error.message if result.error else None,
                       "outputs": result.outputs, "http": dict(options.counts), "seconds": seconds})
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
