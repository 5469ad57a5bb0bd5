"""Options and plumbing shared by commands: settings from flags, `--sandbox`, HTTP options with `--trace`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpdeploy.errors import ConfirmationDeclined, ConfirmationRequired, UsageError

if TYPE_CHECKING:
    from mcpdeploy.config import Settings
    from mcpdeploy.providers.http import HttpOptions

# Every command module imports this one when the CLI starts, `--version` included: the settings (pydantic) and
# HTTP (httpx) machinery is imported inside the functions below, when a command actually runs.

PROJECT_DIR = typer.Option(
    Path("."), "--project-dir", "-C", help="Where mcpdeploy.toml, wrangler.toml, .dev.vars and .mcpdeploy/ live.",
    file_okay=False,
)
ENV = typer.Option(None, "--env", "-e", help="Environment from mcpdeploy.toml [env.NAME]. [env var: MCPDEPLOY_ENV]")
SANDBOX = typer.Option(False, "--sandbox", help="Run against the built-in local sandbox (no accounts needed).")
JSON = typer.Option(False, "--json", help="Print a JSON document on stdout (people's output stays on stderr).")
TRACE = typer.Option(
    None, "--trace", help="Append every HTTP exchange to FILE as JSON lines, secrets redacted.", dir_okay=False
)
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required without a terminal).")


@contextlib.contextmanager
def command_settings(
    project_dir: Path, env: str | None, sandbox: bool, flags: dict[str, Any] | None = None
) -> Iterator[Settings]:
    from mcpdeploy.config import load_settings

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
def http_options(trace: Path | None, settings: Settings) -> Iterator[HttpOptions]:
    from mcpdeploy.providers.http import HttpOptions, TraceWriter
    from mcpdeploy.redaction import Redactor

    redactor = Redactor()
    for secret in (settings.xano.metadata_token, settings.cloudflare.api_token):
        if secret is not None:
            redactor.add(secret.get_secret_value())
    writer = TraceWriter(trace, redactor) if trace else None
    options = HttpOptions(trace=writer, redactor=redactor)
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
