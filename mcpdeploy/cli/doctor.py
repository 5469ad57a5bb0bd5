"""`mcpdeploy doctor`: whether this machine and project can run, each problem with its fix. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import DEADLINE, ENV, JSON, PROJECT_DIR, SANDBOX, TIMEOUT, TRACE, examples
from mcpdeploy.cli.output import emit_json, for_sandbox, make_console

# The settings, HTTP and secrets machinery are imported by the command: every start of the CLI imports this module.
if TYPE_CHECKING:
    from mcpdeploy.errors import McpdeployError
    from mcpdeploy.project.settings import Settings


@dataclass
class Check:
    name: str
    status: str  # "ok", "warning" or "problem"
    detail: str
    fix: str | None = None
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix,
                "exit_code": self.exit_code}


def _problem(name: str, exc: McpdeployError, sandbox: bool) -> Check:
    return Check(name, "problem", for_sandbox(exc.message, sandbox),
                 for_sandbox(exc.hint, sandbox) if exc.hint else None, int(exc.exit_code))


@app.command("doctor", epilog=examples("mcpdeploy doctor --sandbox", "mcpdeploy doctor --env production --json"))
def doctor(
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    sandbox: bool = SANDBOX,
    json_output: bool = JSON,
    trace: Path | None = TRACE,
    timeout: float | None = TIMEOUT,
    deadline: float | None = DEADLINE,
) -> int:
    """Check that this project can run: settings, schemas, the credentials key and .dev.vars, the Xano and
    Cloudflare tokens and what they reach (workspace, API group, queue, Worker), Node and wrangler. Exits 0 when
    nothing is wrong, else with the exit code of the first problem."""
    from mcpdeploy.cli.common import command_settings
    from mcpdeploy.errors import McpdeployError

    checks: list[Check] = []
    try:
        with command_settings(project_dir, env, sandbox) as settings:
            checks.append(Check("settings", "ok", f"mcpdeploy.toml read for environment "
                                                  f"{settings.env_name or 'default'}"))
            checks += _local_checks(settings, project_dir.resolve(), env, sandbox)
            checks += _remote_checks(settings, trace, timeout, deadline, sandbox)
    except McpdeployError as exc:
        checks.append(_problem("settings", exc, sandbox))
    if not sandbox:
        checks += _tool_checks()
    return _report(checks, json_output)


def _local_checks(settings: Settings, project_dir: Path, env: str | None, sandbox: bool) -> list[Check]:
    from mcpdeploy.cli.secrets import _service_credentials_text
    from mcpdeploy.errors import McpdeployError
    from mcpdeploy.files.devvars import dev_vars_path
    from mcpdeploy.project.secrets import CredentialsDecryptError, decrypt_service_credentials, key_id, load_key
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    checks: list[Check] = []
    try:
        schema_dir = resolve_schema_dir(settings)
        spec = load_spec(schema_dir)
        checks.append(Check("schemas", "ok", f"{schema_dir}: {len(spec.tables)} tables, "
                                             f"{len(spec.endpoints)} endpoints"))
    except McpdeployError as exc:
        checks.append(_problem("schemas", exc, sandbox))
    key: str | None = None
    try:
        key = load_key(project_dir, env)
        checks.append(Check("credentials key", "ok", f"key {key_id(key)}") if key else Check(
            "credentials key", "warning", "no credentials key for this environment",
            f"mcpdeploy secrets keygen{' --env ' + env if env else ''}"))
    except McpdeployError as exc:
        checks.append(_problem("credentials key", exc, sandbox))
    if dev_vars_path(project_dir, env).exists():
        try:
            text, path = _service_credentials_text(None, project_dir, env)
            services = decrypt_service_credentials(text, key)
            checks.append(Check(".dev.vars", "ok", f"{path.name}: SERVICE_CREDENTIALS opens ({len(services)} "
                                                   "service(s))"))
        except CredentialsDecryptError as exc:
            checks.append(_problem(".dev.vars", exc, sandbox))
        except McpdeployError as exc:
            checks.append(Check(".dev.vars", "warning", exc.message, exc.hint))
    return checks


def _remote_checks(settings: Settings, trace: Path | None, timeout: float | None, deadline: float | None,
                   sandbox: bool) -> list[Check]:
    """A plan reads everything provision needs with the project's tokens: the workspace, the API group, the queue
    and the Worker; a refused token or a missing thing shows up here."""
    from mcpdeploy.cli.common import http_options
    from mcpdeploy.errors import McpdeployError
    from mcpdeploy.provision.pipeline import open_pipeline

    try:
        with http_options(trace, settings, timeout=timeout, deadline=deadline) as options:
            pipeline = open_pipeline(settings, options)
            try:
                plan = pipeline.plan()
            finally:
                pipeline.close()
    except McpdeployError as exc:
        return [_problem("services", exc, sandbox)]
    checks = [Check("services", "ok", "Xano and Cloudflare answered with these tokens")]
    checks += [Check("services", "warning", for_sandbox(note, sandbox)) for note in plan.notes]
    if plan.has_changes:
        s = plan.summary()
        checks.append(Check("provisioned", "warning",
                            f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete",
                            f"mcpdeploy plan{' --sandbox' if sandbox else ''}, then provision"))
    else:
        checks.append(Check("provisioned", "ok", "everything matches the schemas and settings"))
    return checks


def _tool_checks() -> list[Check]:
    import shutil
    import subprocess

    checks = []
    for tool, fix in (("node", "Install Node.js 20 or later (https://nodejs.org)."),
                      ("npx", "npx comes with Node.js; install Node.js.")):
        found = shutil.which(tool)
        if found is None:
            checks.append(Check(tool, "problem", f"{tool} is not on PATH", fix, 64))
            continue
        try:
            version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=20,
                                     check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            checks.append(Check(tool, "problem", f"{found} --version failed: {exc}", fix, 64))
            continue
        checks.append(Check(tool, "ok", f"{found} {version}"))
    return checks


def _report(checks: list[Check], json_output: bool) -> int:
    problems = [c for c in checks if c.status == "problem"]
    code = problems[0].exit_code if problems else 0
    if json_output:
        emit_json({"command": "doctor", "checks": [c.to_json() for c in checks], "problems": len(problems)}, "doctor")
        return code
    data = make_console(data=True)
    for check in checks:
        data.print(f"{check.status.upper():8} {check.name}: {check.detail}", markup=False, highlight=False)
        if check.fix:
            data.print(f"         fix: {check.fix}", markup=False, highlight=False)
    make_console().print("No problems found." if not problems else f"{len(problems)} problem(s).", markup=False)
    return code
