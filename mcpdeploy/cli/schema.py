"""`mcpdeploy schema validate` and `mcpdeploy schema json-schema`: check the schema files, and give editors the
JSON Schema of their format."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.context import LOCAL, CommandContext, command
from mcpdeploy.cli.output import make_console, write_text

# The spec models (pydantic) are imported by the commands: every start of the CLI imports this module.

schema_app = typer.Typer(help="Check the schema files and print the JSON Schema of their format.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@command(schema_app, "validate", shared=LOCAL)
def validate(ctx: CommandContext) -> None:
    """Load the schemas the project uses (its own or the bundled ones) and report the first problem with its
    file and line (exit code 8), or count what they declare."""
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    with ctx.settings() as settings:
        schema_dir = resolve_schema_dir(settings)
    spec = load_spec(schema_dir)
    fields = sum(len(t.columns) for t in spec.tables)
    summary = f"{len(spec.tables)} tables, {fields} fields, {len(spec.endpoints)} endpoints: valid"
    ctx.emit({"valid": True, "schema_dir": str(schema_dir), "tables": len(spec.tables), "fields": fields,
              "endpoints": len(spec.endpoints)})
    # The verdict is the command's data (stdout), unless the JSON document already is.
    make_console(data=not ctx.json_output).print(f"{schema_dir}: {summary}", markup=False)


@schema_app.command("json-schema")
def json_schema(
    out: Path | None = typer.Option(
        None, "--out", "-o", metavar="FILE", dir_okay=False,
        help="Write to FILE (e.g. schemas/schema-format.json), not stdout."
    ),
) -> None:
    """Print the JSON Schema of the schema-file format. Start a schema file with `#:schema ./schema-format.json`
    and taplo / Even Better TOML check it as you type."""
    from mcpdeploy.files.atomic import write_atomic
    from mcpdeploy.spec.json_schema import schema_format_text

    text = schema_format_text()
    if out is None:
        write_text(text)
        return
    write_atomic(out, text)
    make_console().print(f"wrote {out}", markup=False)
