"""`mcpdeploy doctor`: whether this machine and project can run, each problem with its fix. Reads only: the checks
(mcpdeploy.doctor) send no write to any service and write no file of the project."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import SERVICES, CommandContext, command
from mcpdeploy.cli.output import make_console

# The settings, HTTP and secrets machinery are imported by the command: every start of the CLI imports this module.
if TYPE_CHECKING:
    from mcpdeploy.doctor.check import Check, Target


@command(app, "doctor", shared=SERVICES,
         epilog=examples("mcpdeploy doctor --sandbox", "mcpdeploy doctor --env production --json"))
def doctor(ctx: CommandContext) -> int:
    """Check that this project can run: settings, schemas, the credentials key and .dev.vars, the wrangler config
    wrangler will read, the Xano and Cloudflare tokens and what they may read (workspace, API group, queue, Worker,
    analytics), the clock against the services', Node and wrangler. Exits 0 when nothing is wrong (warnings
    allowed), else with the exit code of the first problem: 5 something is missing (queue, Worker, API group), 6 a
    token or permission is refused, 7 a service is unreachable, 8 a local file is wrong, 64 the machine (Node,
    clock) or the configuration."""
    from mcpdeploy.doctor.check import Check, Target, from_error
    from mcpdeploy.doctor.run import local_checks, tool_checks
    from mcpdeploy.errors import McpdeployError

    checks: list[Check] = []
    try:
        with ctx.settings() as settings:
            target = Target(settings, ctx.project_dir.resolve(), ctx.env, ctx.sandbox)
            checks.append(Check("settings", "ok", f"mcpdeploy.toml read for environment "
                                                  f"{settings.env_name or 'default'}"))
            checks += local_checks(target)
            checks += _remote_checks(ctx, target)
    except McpdeployError as exc:
        checks.append(from_error("settings", exc))
    checks += tool_checks(ctx.project_dir.resolve())
    return _report(ctx, [_as_read(check, ctx) for check in checks])


def _remote_checks(ctx: CommandContext, target: Target) -> list[Check]:
    from mcpdeploy.doctor.run import remote_checks

    with ctx.http(target.settings) as options:
        # The pace record is a file of the project: doctor writes none.
        options.pace_file = None
        return remote_checks(target, options)


def _as_read(check: Check, ctx: CommandContext) -> Check:
    from dataclasses import replace

    return replace(check, detail=ctx.local(check.detail), fix=ctx.local(check.fix) if check.fix else None)


def _report(ctx: CommandContext, checks: list[Check]) -> int:
    problems = [c for c in checks if c.status == "problem"]
    code = problems[0].exit_code if problems else 0
    if ctx.json_output:
        ctx.emit({"checks": [c.to_json() for c in checks], "problems": len(problems),
                  "warnings": sum(c.status == "warning" for c in checks)})
        return code
    data = make_console(data=True)
    for check in checks:
        data.print(f"{check.status.upper():8} {check.name}: {check.detail}", markup=False, highlight=False)
        if check.fix:
            data.print(f"         fix: {check.fix}", markup=False, highlight=False)
    ctx.say("No problems found." if not problems else f"{len(problems)} problem(s).")
    return code
