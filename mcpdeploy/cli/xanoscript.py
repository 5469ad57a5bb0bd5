"""`mcpdeploy xanoscript`: the XanoScript documents provision sends, one per table and per endpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, command_settings
from mcpdeploy.cli.output import emit_json, make_console

SEPARATOR = "--- "


@app.command("xanoscript")
def xanoscript(
    out: Path | None = typer.Option(
        None, "--out", "-o", file_okay=False, help="Write one .xs file per table and endpoint into DIR."
    ),
    project_dir: Path = PROJECT_DIR,
    env: str | None = ENV,
    as_json: bool = JSON,
) -> None:
    """Generate the XanoScript documents provision would send, from the project's schemas. Without --out they
    are printed, each after a `--- <file name>` line."""
    # Imported here, not at the top: every start of the CLI imports this module to register the command.
    from mcpdeploy.files.atomic import write_atomic
    from mcpdeploy.providers.xanoscript import render_all
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    with command_settings(project_dir, env, sandbox=False) as settings:
        schema_dir = resolve_schema_dir(settings)
    documents = render_all(load_spec(schema_dir))
    if out is not None:
        for name, text in documents.items():
            write_atomic(out / name, text)
        make_console().print(f"wrote {len(documents)} documents to {out}", markup=False)
    if as_json:
        emit_json({"schema_dir": str(schema_dir), "documents": documents}, "xanoscript")
    elif out is None:
        sys.stdout.write("".join(f"{SEPARATOR}{name}\n{text}" for name, text in documents.items()))
