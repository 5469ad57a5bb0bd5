"""Options and plumbing shared by commands: settings from flags, `--sandbox`, HTTP options with `--trace`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpdeploy.errors import ConfirmationDeclined, ConfirmationRequired, UsageError

if TYPE_CHECKING:
    from mcpdeploy.project.settings import Settings
    from mcpdeploy.providers.http import HttpOptions

# Every command module imports this one when the CLI starts, `--version` included: the settings (pydantic) and
# HTTP (httpx) machinery is imported inside the functions below, when a command actually runs.

PROJECT_DIR = typer.Option(
    Path("."), "--project-dir", "-C", metavar="DIR",
    help="Where mcpdeploy.toml, wrangler.toml, .dev.vars and .mcpdeploy/ live.",
    file_okay=False,
)
ENV = typer.Option(None, "--env", "-e", metavar="NAME",
                   help="Environment from mcpdeploy.toml [env.NAME]. [env var: MCPDEPLOY_ENV]")
SANDBOX = typer.Option(False, "--sandbox", help="Run against the built-in local sandbox (no accounts needed).")
JSON = typer.Option(False, "--json", help="Print a JSON document on stdout (people's output stays on stderr).")
JSON_STREAM = typer.Option(
    False, "--json-stream",
    help="Print events as JSON lines on stdout while the command runs (progress, plan, each change, retries, "
         "warnings), then its JSON document as the last line.")
TRACE = typer.Option(
    None, "--trace", metavar="FILE",
    help="Append every HTTP exchange to FILE as JSON lines, secrets redacted.", dir_okay=False
)
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required without a terminal).")
# No default here: unset, the value comes from MCPDEPLOY_HTTP_TIMEOUT / [http] in mcpdeploy.toml, then the command's.
TIMEOUT = typer.Option(None, "--timeout", metavar="SECONDS", min=0.001, max=86_400,
                       help="Seconds each HTTP request may take, answer included. [env var: MCPDEPLOY_HTTP_TIMEOUT] "
                            "[default: 30]")
DEADLINE = typer.Option(None, "--deadline", metavar="SECONDS", min=0.001, max=86_400,
                        help="Seconds the whole command may spend on HTTP, retries included. "
                             "[env var: MCPDEPLOY_HTTP_DEADLINE] [default: 300]")


def examples(*command_lines: str) -> str:
    """A command's help epilog: its examples, kept as written (click rewraps paragraphs not marked with "\\b")."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in command_lines)


@contextlib.contextmanager
def command_settings(
    project_dir: Path, env: str | None, sandbox: bool, flags: dict[str, Any] | None = None
) -> Iterator[Settings]:
    from mcpdeploy.project.settings import load_settings

    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise UsageError(f"--project-dir {project_dir}: no such folder")
    settings = load_settings(project_dir, env_name=env, flags=flags)
    if not sandbox:
        yield settings
        return
    from mcpdeploy.sandbox.session import sandbox_settings

    with sandbox_settings(settings) as pointed:
        yield pointed


@contextlib.contextmanager
def http_options(trace: Path | None, settings: Settings, *, timeout: float | None = None,
                 deadline: float | None = None, default_timeout: float | None = None) -> Iterator[HttpOptions]:
    """The run's HTTP policy: `--timeout`/`--deadline` (None: not given) over `[http]` and its environment
    variables, over the defaults. The deadline starts counting here, before the first request."""
    from mcpdeploy.cli.output import make_console
    from mcpdeploy.providers.http import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, HttpOptions, TraceWriter
    from mcpdeploy.redaction import Redactor

    redactor = Redactor()
    for secret in (settings.xano.metadata_token, settings.cloudflare.api_token):
        if secret is not None:
            redactor.add(secret.get_secret_value())
    limits = settings.http
    writer = TraceWriter(trace, redactor, max_body_bytes=limits.trace_body_kb * 1000) if trace else None
    console = make_console()
    options = HttpOptions(
        trace=writer, redactor=redactor,
        timeout=timeout or limits.timeout or default_timeout or DEFAULT_TIMEOUT,
        deadline=deadline or limits.deadline or DEFAULT_DEADLINE,
        max_response_bytes=int(limits.max_response_mb * 1_000_000),
        on_retry=lambda line: console.print(line, markup=False, highlight=False),
        rates={"xano": limits.xano_rate, "cloudflare": limits.cloudflare_rate},
        pace_file=settings.state_dir / "pace.json",
    )
    try:
        yield options
    finally:
        options.close()
        if writer is not None:
            writer.close()


def confirm(question: str, *, yes: bool) -> None:
    """Ask on a terminal; without one, --yes is required (CI must never hang on a prompt)."""
    from mcpdeploy.cli.output import is_interactive

    if yes:
        return
    if not is_interactive():
        raise ConfirmationRequired(
            "confirmation needed, and there is no terminal to ask on (or CI is set)",
            hint="Run again with --yes to apply.",
        )
    if not typer.confirm(question, default=False, err=True):
        raise ConfirmationDeclined("you answered no: nothing was changed")
