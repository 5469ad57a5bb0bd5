"""`mcpdeploy logs`: the checklist's "check logs" step. Streams the Worker's live logs through
`wrangler tail --format json` (or reads saved tail output with `--input`, or the sandbox Worker's), filterable to
errors and refused keys, with no key or token ever printed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import examples
from mcpdeploy.cli.context import CommandContext, command

if TYPE_CHECKING:
    from mcpdeploy.project.settings import Settings
    from mcpdeploy.redaction import Redactor


# Its --json is its own: a tail never ends, so its JSON is one object per event (JSON lines), not one document.
@command(app, "logs", shared=("project_dir", "env", "sandbox"),
         epilog=examples("mcpdeploy logs --sandbox", "mcpdeploy logs --errors --limit 50"))
def logs(
    ctx: CommandContext,
    errors: bool = typer.Option(False, "--errors", help="Only invocations that failed: exceptions, 5xx, error logs."),
    refused: bool = typer.Option(False, "--refused", help="Only requests whose API key was refused (401/403)."),
    input_file: str | None = typer.Option(None, "--input", metavar="FILE",
                                          help="Read saved `wrangler tail --format json` output (- for stdin)."),
    limit: int = typer.Option(0, "--limit", metavar="N", min=0,
                              help="Stop after this many matching events (0: no limit)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per event on stdout (JSON lines)."),
) -> int:
    """The Worker's logs, one line per request: time, method, path, status, outcome, then its log lines.
    Live through `wrangler tail` (Ctrl-C to stop) unless --input or --sandbox."""
    from mcpdeploy.monitor.tail import events

    with ctx.settings() as settings:
        redactor = _redactor(settings)
        if input_file is not None:
            chunks: Iterable[str] = _read_input(input_file)
        elif ctx.sandbox:
            chunks = _sandbox_tail(settings)
        else:
            chunks = _wrangler_tail(settings, ctx.env)
        return _print(events(chunks), redactor, errors=errors, refused=refused, limit=limit, as_json=as_json)


def _print(stream: Iterator[dict[str, object]], redactor: Redactor, *, errors: bool, refused: bool, limit: int,
           as_json: bool) -> int:
    import json

    from mcpdeploy.cli.output import JSON_SCHEMA_VERSION, write_text
    from mcpdeploy.monitor.tail import summarize, wanted

    shown = 0
    try:
        for event in stream:
            line = summarize(event, redactor)
            if not wanted(line, errors=errors, refused=refused):
                continue
            text = json.dumps({"schema_version": JSON_SCHEMA_VERSION, **line.to_json()}) if as_json else line.text()
            if not write_text(text + "\n"):
                break  # `mcpdeploy logs | head`: the reader has what it wanted, and a tail never ends by itself
            shown += 1
            if limit and shown >= limit:
                break
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a live tail: what was shown is the answer
    return 0


def _redactor(settings: Settings) -> Redactor:
    from mcpdeploy.redaction import Redactor
    from mcpdeploy.sandbox import credentials

    redactor = Redactor()
    for secret in (settings.xano.metadata_token, settings.cloudflare.api_token):
        if secret is not None:
            redactor.add(secret.get_secret_value())
    for value in (os.environ.get("MCP_API_KEY"), credentials.MCP_API_KEY):
        redactor.add(value)
    return redactor


def _read_input(name: str) -> Iterator[str]:
    from mcpdeploy.errors import UsageError

    if name == "-":
        yield from sys.stdin
        return
    try:
        with open(name, encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise UsageError(f"--input {name}: {exc.strerror}") from exc


def _sandbox_tail(settings: Settings) -> Iterator[str]:
    import json

    from mcpdeploy.providers.http import ServiceClient

    base = settings.cloudflare.api_base_url.rsplit("/client/v4", 1)[0]
    with ServiceClient(base, None) as client:
        answer = client.send("GET", "__tail", params={"script": settings.cloudflare.worker_name or ""}).json()
    for event in answer if isinstance(answer, list) else []:
        yield json.dumps(event, indent=2) + "\n"


def _wrangler_tail(settings: Settings, env: str | None) -> Iterator[str]:
    """`wrangler tail <worker> --format json`, read as it prints; wrangler's stderr goes to ours."""
    from mcpdeploy.errors import UsageError
    from mcpdeploy.files.wrangler import read_worker_name

    worker = settings.cloudflare.worker_name or read_worker_name(settings.project_dir, env)
    if not worker:
        raise UsageError("no Worker name to tail", hint="Run from the Worker's folder (wrangler.toml) or set "
                         "MCPDEPLOY_WORKER_NAME.")
    wrangler = shutil.which("wrangler")
    command = [wrangler] if wrangler else ["npx", "--no-install", "wrangler"]
    if not wrangler and not shutil.which("npx"):
        raise UsageError("wrangler is not installed", hint="npm install --save-dev wrangler (in the Worker's "
                         "folder), or use --input with saved `wrangler tail --format json` output.")
    command += ["tail", worker, "--format", "json"] + (["--env", env] if env else [])
    child_env = dict(os.environ, WRANGLER_SEND_METRICS="false")
    if settings.cloudflare.api_token is not None:
        child_env["CLOUDFLARE_API_TOKEN"] = settings.cloudflare.api_token.get_secret_value()
    if settings.cloudflare.account_id:
        child_env["CLOUDFLARE_ACCOUNT_ID"] = settings.cloudflare.account_id
    with subprocess.Popen(command, cwd=settings.project_dir, stdout=subprocess.PIPE, text=True,
                          env=child_env) as child:
        try:
            assert child.stdout is not None
            yield from child.stdout
        finally:
            child.terminate()
