"""`mcpdeploy xanoscript`: the XanoScript documents provision sends, one per table and per endpoint."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.context import LOCAL, CommandContext, command
from mcpdeploy.cli.output import write_text

SEPARATOR = "--- "


@command(app, "xanoscript", shared=LOCAL)
def xanoscript(
    ctx: CommandContext,
    out: Path | None = typer.Option(
        None, "--out", "-o", metavar="DIR", file_okay=False, help="Write one .xs file per table and endpoint into DIR."
    ),
) -> None:
    """Generate the XanoScript documents provision would send, from the project's schemas. Without --out they
    are printed, each after a `--- <file name>` line."""
    # Imported here, not at the top: every start of the CLI imports this module to register the command.
    from mcpdeploy.files.atomic import write_atomic
    from mcpdeploy.providers.xanoscript import render_all
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    with ctx.settings() as settings:
        schema_dir = resolve_schema_dir(settings)
    documents = render_all(load_spec(schema_dir))
    if out is not None:
        for name, text in documents.items():
            write_atomic(out / name, text)
        ctx.say(f"wrote {len(documents)} documents to {out}")
    if ctx.json_output:
        ctx.emit({"schema_dir": str(schema_dir), "documents": documents})
    elif out is None:
        write_text("".join(f"{SEPARATOR}{name}\n{text}" for name, text in documents.items()))
