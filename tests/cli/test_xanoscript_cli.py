"""`mcpdeploy xanoscript`: the documents provision sends, written to a folder, printed, or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.providers.xanoscript import render_all
from mcpdeploy.spec.loader import default_schema_dir, load_spec

SIX = {
    "table_mcp_sessions.xs", "table_usage_logs.xs", "api_mcp_sessions_post.xs",
    "api_mcp_sessions_session_id_get.xs", "api_mcp_sessions_session_id_put.xs", "api_usage_logs_post.xs",
}


def test_out_writes_one_file_per_table_and_endpoint(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("xanoscript", "--out", "xs")
    assert result.exit_code == 0, result.stderr
    written = {p.name: p.read_text() for p in (project / "xs").iterdir()}
    assert written == render_all(load_spec(default_schema_dir()))
    assert set(written) == SIX
    assert result.stdout == ""
    assert "wrote 6 documents" in result.stderr


def test_without_out_the_documents_are_printed_each_after_its_name(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("xanoscript")
    assert result.exit_code == 0
    names = [line[4:] for line in result.stdout.splitlines() if line.startswith("--- ")]
    assert set(names) == SIX and names[0] == "table_mcp_sessions.xs"
    assert 'query "mcp_sessions/{session_id}" verb=PUT {' in result.stdout


def test_json_holds_every_document(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("xanoscript", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert set(document["documents"]) == SIX
    assert document["documents"]["table_usage_logs.xs"].startswith("table usage_logs {\n")


def test_the_projects_own_schemas_are_used(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "schemas").mkdir()
    (project / "schemas" / "notes.toml").write_text(
        '[table]\nname = "notes"\n\n[[fields]]\nname = "body"\ntype = "text"\n\n'
        '[[endpoints]]\nverb = "POST"\npath = "notes"\noperation = "create"\n'
    )
    result = cli("xanoscript", "--project-dir", str(project), "--json")
    assert sorted(json.loads(result.stdout)["documents"]) == ["api_notes_post.xs", "table_notes.xs"]


def test_a_bad_schema_writes_nothing_and_exits_8(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "schemas").mkdir()
    (project / "schemas" / "notes.toml").write_text('[table]\nname = "notes"\n\n[[fields]]\nname = "body"\n'
                                                     'type = "string"\n')
    result = cli("xanoscript", "--out", "xs")
    assert result.exit_code == 8
    assert f"{project / 'schemas' / 'notes.toml'}:6: fields[1].type: unknown type 'string'" in result.stderr
    assert not (project / "xs").exists()
