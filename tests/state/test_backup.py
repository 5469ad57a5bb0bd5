"""Exports taken before anything could lose rows: complete, read back, and never overwriting each other."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.state.backup import export_rows
from tests.sandbox import TABLE_MCP_SESSIONS


def client_with_rows(tmp_path: Path, rows: int) -> tuple[XanoClient, int]:
    client = XanoClient("http://sandbox.test", credentials.XANO_METADATA_TOKEN, 1,
                        options=HttpOptions(transport=SandboxTransport(Sandbox(tmp_path / "sb"))))
    table_id = int(client.create_table(TABLE_MCP_SESSIONS)["id"])
    for i in range(rows):
        client.send("POST", f"workspace/1/table/{table_id}/content", json_body={"session_id": f"s{i}", "user_id": "u"})
    return client, table_id


def test_an_export_holds_every_row_across_pages(tmp_path: Path) -> None:
    client, table_id = client_with_rows(tmp_path, 120)  # more than two pages of 50
    path, count = export_rows(client, table_id, "mcp_sessions", tmp_path / "backups")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert count == len(rows) == 120
    assert sorted(r["session_id"] for r in rows) == sorted(f"s{i}" for i in range(120))
    assert path.stat().st_mode & 0o777 == 0o600


def test_two_exports_of_one_table_in_the_same_second_are_two_files(tmp_path: Path) -> None:
    client, table_id = client_with_rows(tmp_path, 2)
    first, _ = export_rows(client, table_id, "mcp_sessions", tmp_path / "backups")
    second, _ = export_rows(client, table_id, "mcp_sessions", tmp_path / "backups")
    assert first != second
    assert first.exists() and second.exists()


