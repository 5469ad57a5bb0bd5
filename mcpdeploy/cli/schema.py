"""`mcpdeploy schema validate` and `mcpdeploy schema json-schema`: check the schema files, and give editors the
JSON Schema of their format."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import ENV, JSON, PROJECT_DIR, command_settings
from mcpdeploy.cli.output import emit_json, make_console

# The spec models (pydantic) are imported by the commands: every start of the CLI imports this module.

schema_app = typer.Typer(help="Check the schema files and print the JSON Schema of their format.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@schema_app.command("validate")
def validate(project_dir: Path = PROJECT_DIR, env: str | None = ENV, as_json: bool = JSON) -> None:
    """Load the schemas the project uses (its own or the bundled ones) and report the first problem with its
    file and line (exit code 8), or count what they declare."""
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    with command_settings(project_dir, env, sandbox=False) as settings:
        schema_dir = resolve_schema_dir(settings)
    spec = load_spec(schema_dir)
    fields = sum(len(t.columns) for t in spec.tables)
    summary = f"{len(spec.tables)} tables, {fields} fields, {len(spec.endpoints)} endpoints: valid"
    if as_json:
        emit_json({"valid": True, "schema_dir": str(schema_dir), "tables": len(spec.tables), "fields": fields,
                   "endpoints": len(spec.endpoints)}, "schema-validate")
    # The verdict is the command's data (stdout), unless the JSON document already is.
    make_console(data=not as_json).print(f"{schema_dir}: {summary}", markup=False)


@schema_app.command("json-schema")
def json_schema(
    out: Path | None = typer.Option(
        None, "--out", "-o", dir_okay=False, help="Write to FILE (e.g. schemas/schema-format.json), not stdout."
    ),
) -> None:
    """Print the JSON Schema of the schema-file format. Start a schema file with `#:schema ./schema-format.json`
    and taplo / Even Better TOML check it as you type."""
    from mcpdeploy.files.atomic import write_atomic
    from mcpdeploy.spec.json_schema import schema_format_text

    text = schema_format_text()
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    make_console().print(f"wrote {out}", markup=False)
