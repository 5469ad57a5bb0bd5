"""`mcpdeploy rollback --run RUN_ID|last`: undo a provision, newest change first, never losing data."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mcpdeploy.sandbox.core import Sandbox
from tests.support.served import xano_client

WRANGLER_TOML = '# my worker\nname = "usage-mcp"\nmain = "src/index.ts"\n'


@pytest.fixture
def sandbox(served_cloudflare: Sandbox, project: Path) -> Sandbox:
    (project / "wrangler.toml").write_text(WRANGLER_TOML)
    return served_cloudflare


def provisioned(cli) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = cli("provision", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_dry_run_prints_the_reverse_plan_and_changes_nothing(cli, sandbox: Sandbox, project: Path) -> None:
    report = provisioned(cli)
    writes = len(sandbox.writes())
    result = cli("rollback", "--run", "last", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert steps[0]["resource"] == "file .dev.vars"  # newest change first
    assert [s["resource"] for s in steps][-2:] == ["table usage_logs", "table mcp_sessions"]
    assert {s["status"] for s in steps if s["resource"].startswith("queue")} == {"needs_data_loss"}
    assert json.loads(result.stdout)["run_id"] == report["run_id"]
    assert len(sandbox.writes()) == writes
    assert "Dry run: nothing was changed." in result.stderr


def test_undo_of_a_run_whose_tables_hold_rows_is_refused_without_allow_data_loss(cli, sandbox: Sandbox) -> None:
    base = provisioned(cli)["outputs"]["xano_api_base_url"]
    assert httpx.post(f"{base}/mcp_sessions", json={"session_id": "s1", "user_id": "u1"}).status_code == 200
    writes = len(sandbox.writes())
    refused = cli("rollback", "--run", "last", "--yes")
    assert refused.exit_code == 3
    assert "table mcp_sessions" in refused.stderr and "--allow-data-loss" in refused.stderr
    assert len(sandbox.writes()) == writes  # all or nothing: not even the endpoints were removed


def test_with_allow_data_loss_rows_are_exported_verified_and_everything_is_undone(
    cli, sandbox: Sandbox, project: Path
) -> None:
    report = provisioned(cli)
    base = report["outputs"]["xano_api_base_url"]
    for i in range(3):
        httpx.post(f"{base}/mcp_sessions", json={"session_id": f"s{i}", "user_id": "u1"})
    result = cli("rollback", "--run", report["run_id"], "--yes", "--allow-data-loss", "--json")
    assert result.exit_code == 0, result.stderr
    applied = json.loads(result.stdout)["applied"]
    [sessions] = [a for a in applied if a["resource"] == "table mcp_sessions"]
    export = Path(sessions["ids"]["export"])
    assert sessions["ids"]["rows_exported"] == 3
    assert sorted(json.loads(line)["session_id"] for line in export.read_text().splitlines()) == ["s0", "s1", "s2"]
    client = xano_client(sandbox)
    assert {"mcp_sessions", "usage_logs"} & {t["name"] for t in client.list_tables()} == set()
    assert "mcp" not in {g["name"] for g in client.list_api_groups()}
    assert (project / "wrangler.toml").read_text() == WRANGLER_TOML  # restored from the backup
    assert not (project / ".dev.vars").exists()  # the run created it


def test_rolling_back_twice_is_a_no_op_the_second_time(cli, sandbox: Sandbox) -> None:
    report = provisioned(cli)
    assert cli("rollback", "--run", report["run_id"], "--yes", "--allow-data-loss").exit_code == 0
    writes = len(sandbox.writes())
    again = cli("rollback", "--run", report["run_id"], "--yes", "--allow-data-loss")
    assert again.exit_code == 0
    assert "already rolled back" in again.stderr
    assert len(sandbox.writes()) == writes


def test_a_file_edited_since_the_run_is_left_alone_and_said_so(cli, sandbox: Sandbox, project: Path) -> None:
    report = provisioned(cli)
    edited = (project / "wrangler.toml").read_text() + '\n[vars]\nMINE = "1"\n'
    (project / "wrangler.toml").write_text(edited)
    result = cli("rollback", "--run", report["run_id"], "--yes", "--allow-data-loss", "--json")
    assert result.exit_code == 0, result.stderr
    [step] = [s for s in json.loads(result.stdout)["steps"] if s["resource"] == "file wrangler.toml"]
    assert step["status"] == "left_alone" and "changed since" in step["reason"]
    assert (project / "wrangler.toml").read_text() == edited


def test_empty_tables_are_removed_without_the_data_loss_flag(
    cli, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"):  # Xano only: no queue to weigh
        monkeypatch.delenv(name)
    report = provisioned(cli)
    result = cli("rollback", "--run", report["run_id"], "--yes")
    assert result.exit_code == 0, result.stderr
    assert {"mcp_sessions", "usage_logs"} & {t["name"] for t in xano_client(sandbox).list_tables()} == set()


def test_the_queue_created_by_the_run_needs_the_data_loss_flag(cli, sandbox: Sandbox) -> None:
    report = provisioned(cli)
    refused = cli("rollback", "--run", report["run_id"], "--yes")
    assert refused.exit_code == 3 and "queue usage-queue" in refused.stderr
    assert {"mcp_sessions", "usage_logs"} <= {t["name"] for t in xano_client(sandbox).list_tables()}
