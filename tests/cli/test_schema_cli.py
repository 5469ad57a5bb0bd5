"""`mcpdeploy schema validate` and `mcpdeploy schema json-schema`."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.spec.json_schema import schema_format_text


def test_validate_counts_what_the_bundled_schemas_declare(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("schema", "validate")
    assert result.exit_code == 0
    assert "2 tables, 21 fields, 4 endpoints: valid" in result.stdout
    assert result.stderr == ""


def test_validate_json(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("schema", "validate", "--json")
    document = json.loads(result.stdout)
    assert (document["valid"], document["tables"], document["fields"], document["endpoints"]) == (True, 2, 21, 4)


def test_validate_names_the_file_and_line_of_a_mistake_and_exits_8(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    schemas = project / "schemas"
    schemas.mkdir()
    (schemas / "notes.toml").write_text('[table]\nname = "notes"\n\n[[fields]]\nname = "body"\ntype = "text"\n'
                                        '\n[[fields]]\nname = "body"\ntype = "int"\n')
    result = cli("schema", "validate")
    assert result.exit_code == 8
    assert f"error: {schemas / 'notes.toml'}:9: field 'body' is declared twice (first at notes.toml:5)" in result.stderr
    assert "hint: Fix the schema file" in result.stderr


def test_validate_reads_the_folder_named_in_mcpdeploy_toml(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "mcpdeploy.toml").write_text('schemas = "missing"\n')
    result = cli("schema", "validate", "--project-dir", str(project))
    assert result.exit_code == 8
    assert f"{project / 'mcpdeploy.toml'}:1: schemas = 'missing'" in result.stderr


def test_json_schema_prints_or_writes_the_format(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    printed = cli("schema", "json-schema")
    assert printed.exit_code == 0 and printed.stdout == schema_format_text()
    written = cli("schema", "json-schema", "--out", "schemas/schema-format.json")
    assert written.exit_code == 0
    assert (project / "schemas" / "schema-format.json").read_text() == schema_format_text()
