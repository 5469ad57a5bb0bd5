"""provision under the environment's lock, recorded in the journal, with a verified export before data loss."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.state.lock import Lock
from tests.support.served import xano_client


@pytest.fixture
def sandbox(served_sandbox: Sandbox) -> Sandbox:
    return served_sandbox


def test_each_provision_is_a_run_in_the_history_with_the_ids_it_got(cli, sandbox: Sandbox) -> None:
    first = json.loads(cli("provision", "--yes", "--json").stdout)
    second = json.loads(cli("provision", "--yes", "--json").stdout)
    runs = json.loads(cli("history", "--json").stdout)["runs"]
    assert [(r["run_id"], r["outcome"]) for r in runs] == [(second["run_id"], "no_changes"),
                                                          (first["run_id"], "succeeded")]
    detail = json.loads(cli("history", "show", first["run_id"], "--json").stdout)
    tables = [c for c in detail["run"]["changes"] if c["kind"] == "create_table"]
    assert [c["resource"] for c in tables] == ["table mcp_sessions", "table usage_logs"]
    assert all(isinstance(c["ids"]["table_id"], int) for c in tables)


def test_a_run_holding_the_lock_stops_a_second_one_with_exit_code_4(cli, sandbox: Sandbox, project: Path) -> None:
    with Lock(project / ".mcpdeploy", None, command="provision"):
        result = cli("provision", "--yes")
    assert result.exit_code == 4
    assert "locked by" in result.stderr and "mcpdeploy unlock --force" in result.stderr
    assert sandbox.writes() == []
    assert cli("provision", "--yes").exit_code == 0  # released: the next run goes ahead


def test_removing_a_field_exports_the_table_first_and_the_export_is_complete(
    cli, sandbox: Sandbox, project: Path
) -> None:
    report = json.loads(cli("provision", "--yes", "--json").stdout)
    base = report["outputs"]["xano_api_base_url"]
    for i in range(3):
        assert httpx.post(f"{base}/usage_logs", json={"session_id": f"s{i}", "user_id": "u", "tool_name": "t"}
                          ).status_code == 200
    client = xano_client(sandbox)
    logs = next(t for t in client.list_tables() if t["name"] == "usage_logs")
    client.put_schema(logs["id"], [*client.get_schema(logs["id"]),
                                   {"name": "legacy", "type": "text", "nullable": True, "required": False}])
    blocked = cli("provision", "--yes")
    assert blocked.exit_code == 3 and "field usage_logs.legacy" in blocked.stderr
    result = cli("provision", "--yes", "--allow-destructive", "--json")
    assert result.exit_code == 0, result.stderr
    [removed] = [a for a in json.loads(result.stdout)["applied"] if a["kind"] == "remove_field"]
    export = Path(removed["ids"]["export"])
    assert export.parent == project / ".mcpdeploy" / "backups"
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert removed["ids"]["rows_exported"] == len(rows) == 3
    assert "legacy" not in [f["name"] for f in client.get_schema(logs["id"])]
