"""`mcpdeploy smoke-test`: check a deployed MCP Worker (and its Xano auth) the way a real MCP client uses it."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import CommandContext, command
from mcpdeploy.cli.output import write_text
from mcpdeploy.errors import UsageError

# The smoke-test library, its HTTP client (httpx) and rich are imported when the command runs, not when the CLI
# starts: every start imports this module to register the command.
if TYPE_CHECKING:
    from rich.console import Console

    from mcpdeploy.project.settings import Settings
    from mcpdeploy.redaction import Redactor
    from mcpdeploy.smoke.model import SmokeReport

DEFAULT_TIMEOUT = 15.0


URL = typer.Option(None, "--url", metavar="URL",
                   help="The Worker's MCP endpoint, e.g. https://x.workers.dev/mcp. [env var: MCP_URL]")
XANO_AUTH_URL = typer.Option(None, "--xano-url", metavar="URL", help="Base of the Xano API group serving auth/me, "
                             "e.g. https://host/api:abc. [env var: XANO_AUTH_URL]")
API_KEY_FILE = typer.Option(None, "--api-key-file", metavar="FILE", dir_okay=False,
                            help="Read the MCP API key from FILE. Otherwise from the MCP_API_KEY environment variable.")
JUNIT = typer.Option(None, "--junit-xml", metavar="FILE", dir_okay=False, help="Also write a JUnit XML report.")
EXPECT_TOOL = typer.Option([], "--expect-tool", metavar="NAME", help="Fail unless tools/list has NAME (repeatable).")
MIN_TOOLS = typer.Option(None, "--min-tools", metavar="N", min=0, help="Fail with fewer tools than N.")
CALL_TOOL = typer.Option(None, "--call-tool", metavar="NAME", help="Also call tool NAME; fail on an error.")
TOOL_ARGS = typer.Option(None, "--tool-args", metavar="JSON", help="JSON object of arguments for --call-tool.")
# No default here: unset, the value comes from MCPDEPLOY_HTTP_TIMEOUT / [http] timeout, then DEFAULT_TIMEOUT.
TIMEOUT = typer.Option(None, "--timeout", metavar="SECONDS", min=0.001, max=86_400,
                       help="Seconds each request may take, answer included. [env var: MCPDEPLOY_HTTP_TIMEOUT] "
                            f"[default: {DEFAULT_TIMEOUT:g}]")
WAIT_FOR = typer.Option(0.0, "--wait-for", metavar="SECONDS", min=0.0, help="Keep retrying the first request for up "
                        "to SECONDS while the endpoint does not answer (a cold start after a deploy).")
ERA = typer.Option("auto", "--protocol-era", metavar="ERA",
                   help="auto (legacy handshake, 2026-07-28 when the server asks for it), legacy, or modern.")


# Its own --timeout: the same setting, with the shorter default an MCP endpoint's answers call for.
@command(app, "smoke-test", shared=("project_dir", "env", "sandbox", "json_output", "trace", "deadline"),
         epilog=examples(
    "mcpdeploy smoke-test --sandbox",
    "mcpdeploy smoke-test --env production --wait-for 60 --junit-xml smoke.xml",
))
def smoke_test_command(
    ctx: CommandContext,
    url: str | None = URL,
    xano_url: str | None = XANO_AUTH_URL,
    api_key_file: Path | None = API_KEY_FILE,
    junit: Path | None = JUNIT,
    expect_tool: list[str] = EXPECT_TOOL,
    min_tools: int | None = MIN_TOOLS,
    call_tool: str | None = CALL_TOOL,
    tool_args: str | None = TOOL_ARGS,
    timeout: float | None = TIMEOUT,
    wait_for: float = WAIT_FOR,
    era: str = ERA,
) -> int:
    """Run the deployment checks: Xano auth/me, MCP auth refusals, handshake, tools/list, an optional tools/call.

    Exit codes: 0 every check passed (warnings allowed), 5 a check failed, 7 the target did not answer,
    64 usage or configuration error.
    """
    from mcpdeploy.providers.mcp_http import McpHttpClient
    from mcpdeploy.smoke.checks import run_smoke_test
    from mcpdeploy.smoke.model import ERAS, SmokeOptions

    if era not in ERAS:
        raise UsageError(f"--protocol-era {era}: choose one of {', '.join(ERAS)}.")
    arguments = _tool_arguments(tool_args, call_tool)
    if ctx.sandbox and (url or xano_url or api_key_file):
        raise UsageError("--sandbox takes the URLs and the key from the sandbox; drop --url, --xano-url and "
                         "--api-key-file, or drop --sandbox.")
    flags = {"smoke.mcp_url": url, "smoke.xano_auth_url": xano_url}
    console = ctx.console
    ctx.timeout = timeout
    with ctx.settings(flags) as settings, ctx.http(settings, default_timeout=DEFAULT_TIMEOUT) as http:
        if http.deadline is not None and wait_for >= http.deadline:
            raise UsageError(f"--wait-for {wait_for:g} does not fit in the deadline of {http.deadline:g}s for the "
                             "whole command.", hint="Give a longer --deadline, or a shorter --wait-for.")
        mcp_url, auth_url, key = _sandbox_target(settings) if ctx.sandbox else _target(settings, api_key_file)
        options = SmokeOptions(mcp_url=mcp_url, xano_url=auth_url, expect_tools=tuple(expect_tool),
                               min_tools=min_tools, call_tool=call_tool, tool_args=arguments, wait_for=wait_for,
                               era=era)
        target = http.redactor.redact(mcp_url)
        ctx.say(f"Smoke-testing {target}" + (f" (Xano auth: {http.redactor.redact(auth_url)})" if auth_url else ""))
        activity = ctx.activity
        activity.show(f"Smoke-testing {target}")

        waited = [False]

        def waiting(why: str, pause: float, left: float) -> None:
            # On a terminal the spinner says what it waits for, its seconds counted from the first retry; in a log,
            # one line per retry.
            said = http.redactor.redact(why)
            if not activity.live:
                activity.note(f"not ready: {said}; retrying in {_seconds(pause)}, {left:.0f}s of --wait-for "
                              f"{wait_for:g}s left")
                return
            if not waited[0]:
                waited[0] = True
                activity.show(f"Waiting up to {wait_for:g}s for {target} to answer")
            # The step names the URL already: the detail keeps only what the last try got.
            activity.detail("last try: " + re.sub(rf"^\S+ {re.escape(target)}:? ", "", said))

        try:
            with McpHttpClient(key, http) as client:
                report = run_smoke_test(client, options, on_wait=waiting)
        finally:
            activity.stop()
        _publish(ctx, report, console, http.redactor, junit=junit)
    return int(report.exit_code)


def _seconds(value: float) -> str:
    """1s, 0.4s: tenths only below a second."""
    return f"{value:.1f}".removesuffix(".0") + "s" if value < 1 else f"{value:.0f}s"


def _target(settings: Settings, api_key_file: Path | None) -> tuple[str, str | None, str]:
    from mcpdeploy.project.settings import EnvVars

    mcp_url = settings.smoke.mcp_url
    if not mcp_url:
        raise UsageError(f"no MCP URL: pass --url, set {EnvVars.MCP_URL}, or add mcp_url to [smoke] (or "
                         "[env.NAME.smoke]) in mcpdeploy.toml.", hint="Or try it locally with --sandbox.")
    for name, value in (("--url", mcp_url), ("--xano-url", settings.smoke.xano_auth_url)):
        if value and not value.startswith(("http://", "https://")):
            raise UsageError(f"{name} {value!r}: expected an http:// or https:// URL.")
    return mcp_url, settings.smoke.xano_auth_url, _api_key(settings, api_key_file)


def _api_key(settings: Settings, api_key_file: Path | None) -> str:
    """--api-key-file, else $MCP_API_KEY, else [smoke] api_key_file. Never a flag value: it would sit in `ps`."""
    from mcpdeploy.errors import InputFileError
    from mcpdeploy.project.settings import EnvVars, checked_secret

    path = api_key_file
    if path is None and os.environ.get(EnvVars.MCP_API_KEY):
        return checked_secret(os.environ[EnvVars.MCP_API_KEY], EnvVars.MCP_API_KEY)
    if path is None and settings.smoke.api_key_file:
        path = Path(settings.smoke.api_key_file).expanduser()
        if not path.is_absolute():
            path = settings.project_dir / path
    if path is None:
        raise UsageError(f"no MCP API key: set {EnvVars.MCP_API_KEY} or pass --api-key-file FILE.",
                         hint="In GitHub Actions: env: MCP_API_KEY: ${{ secrets.MCP_API_KEY }}")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the API key file {path}: {exc.strerror}") from exc
    if mode & 0o077:  # refused as a token or credentials key file is: the key is a caller's whole identity
        raise InputFileError(path, f"the API key file is readable by others (mode {mode:04o})",
                             hint=f"Run `chmod 600 {path}`.")
    try:
        key = checked_secret(raw.decode("utf-8"), f"the API key file {path}")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not text (not valid UTF-8): an API key file holds the key alone",
                             hint='Write it again, e.g. `printf %s "$MCP_API_KEY" > FILE`.') from exc
    if not key:
        raise UsageError(f"the API key file {path} is empty.")
    return key


def _sandbox_target(settings: Settings) -> tuple[str, str | None, str]:
    from mcpdeploy.providers.http import join_url
    from mcpdeploy.sandbox import credentials
    from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP

    base = settings.xano.instance_url
    assert base is not None and settings.smoke.mcp_url is not None  # point_at_sandbox sets both
    return settings.smoke.mcp_url, join_url(base, AUTH_API_GROUP), credentials.MCP_API_KEY


def _tool_arguments(tool_args: str | None, call_tool: str | None) -> dict[str, Any]:
    if tool_args is None:
        return {}
    if not call_tool:
        raise UsageError("--tool-args needs --call-tool NAME.")
    try:
        value = json.loads(tool_args)
    except ValueError as exc:
        raise UsageError(f"--tool-args is not valid JSON: {exc}.", hint="""Example: --tool-args '{"text": "hi"}'""") \
            from exc
    if not isinstance(value, dict):
        raise UsageError("--tool-args must be a JSON object, e.g. '{\"text\": \"hi\"}'.")
    return value


def _publish(ctx: CommandContext, report: SmokeReport, console: Console, redactor: Redactor, *,
             junit: Path | None) -> None:
    from mcpdeploy.files.atomic import write_atomic
    from mcpdeploy.smoke.github import step_summary, workflow_commands
    from mcpdeploy.smoke.report import junit_xml, report_document

    render_report(console, report, redactor)
    if junit is not None:
        write_atomic(junit, redactor.redact(junit_xml(report)))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in workflow_commands(report):
            write_text(redactor.redact(line) + "\n", "stderr")
        summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_path:
            # Appending is the protocol: earlier steps' summaries live in the same file.
            with open(summary_path, "a", encoding="utf-8") as summary:
                summary.write(redactor.redact(step_summary(report)))
    ctx.emit(json.loads(redactor.redact(json.dumps(report_document(report)))))


def render_report(console: Console, report: SmokeReport, redactor: Redactor) -> None:
    from rich.table import Table
    from rich.text import Text

    from mcpdeploy.smoke.model import Status
    from mcpdeploy.smoke.report import reproducer

    marks = {Status.PASS: "ok", Status.FAIL: "FAIL", Status.WARN: "warn", Status.SKIP: "skip"}
    styles = {Status.PASS: "green", Status.FAIL: "bold red", Status.WARN: "yellow", Status.SKIP: "dim"}
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("", "check", "ms", "reason"):
        table.add_column(column, justify="right" if column == "ms" else "left", overflow="fold")
    for check in report.checks:
        table.add_row(Text(marks[check.status], style=styles[check.status]), Text(check.id),
                      str(round(check.seconds * 1000)), Text(redactor.redact(check.reason)))
    console.print(table)
    for check in report.checks:
        curl = reproducer(check)
        if curl and check.status is Status.FAIL:
            console.print(f"\nReproduce {check.id}:\n{redactor.redact(curl)}", markup=False, highlight=False,
                          soft_wrap=True)
    if report.protocol_version:
        console.print(f"\nprotocol {report.protocol_version} ({report.era}), "
                      f"tools: {', '.join(report.tools) or 'none'}", markup=False)
    console.print(report.summary_line(), markup=False)
