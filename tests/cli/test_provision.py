"""`mcpdeploy plan` and `mcpdeploy provision` end to end, over real HTTP against a sandbox on loopback,
configured exactly as a user configures a real Xano instance: through the environment variables."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from tests.support.served import xano_client


@pytest.fixture
def sandbox(served_sandbox: Sandbox) -> Sandbox:
    return served_sandbox


def test_a_fresh_provision_creates_both_tables_the_group_and_four_endpoints(cli, sandbox: Sandbox) -> None:
    result = cli("provision", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == "1"
    # 7 Xano resources and 3 local files (wrangler.toml, .gitignore, .dev.vars); Cloudflare is not configured here.
    assert report["summary"] == {"create": 10, "update": 0, "delete": 0, "destructive": 0}
    assert [a["outcome"] for a in report["applied"]] == ["done"] * 10
    assert any("Cloudflare is not configured" in note for note in report["notes"])
    canonical = report["outputs"]["xano_api_group_canonical"]
    assert report["outputs"]["xano_api_base_url"] == f"{sandbox.url}/api:{canonical}"
    client = xano_client(sandbox)
    assert {"mcp_sessions", "usage_logs"} <= {t["name"] for t in client.list_tables()}
    group = next(g for g in client.list_api_groups() if g["name"] == "mcp")
    assert sorted((a["verb"], a["name"]) for a in client.list_apis(group["id"])) == [
        ("GET", "mcp_sessions/{session_id}"), ("POST", "mcp_sessions"), ("POST", "usage_logs"),
        ("PUT", "mcp_sessions/{session_id}"),
    ]
    assert "Applied 10 change(s)" in result.stderr


def test_a_second_provision_says_no_changes_and_makes_zero_writes(cli, sandbox: Sandbox) -> None:
    assert cli("provision", "--yes").exit_code == 0
    writes_before = len(sandbox.writes())
    again = cli("provision", "--yes", "--json")
    assert again.exit_code == 0
    assert len(sandbox.writes()) == writes_before
    assert "No changes" in again.stderr
    report = json.loads(again.stdout)
    assert report["changed"] is False and report["http"]["writes"] == 0


@pytest.mark.parametrize("options", [
    pytest.param({}, id="recorded echo"),
    pytest.param({"schema_validators": False}, id="no validators in GET schema"),
    pytest.param({"guid_on_save": True}, id="guid added on save"),
    pytest.param({"schema_validators": False, "guid_on_save": True}, id="both"),
])
def test_a_second_provision_makes_zero_writes_whatever_xano_echoes(
        cli, sandbox: Sandbox, options: dict[str, bool]) -> None:
    # The sandbox echoes XanoScript as Xano was recorded doing: regenerated, never the text that was sent.
    sandbox.options = sandbox.options.changed(options)
    assert cli("provision", "--yes").exit_code == 0
    group = next(g for g in xano_client(sandbox).list_api_groups() if g["name"] == "mcp")
    echoed = xano_client(sandbox).list_apis(group["id"])[0]["xanoscript"]["value"]
    assert echoed.startswith("// ") and 'api_group = "mcp"' in echoed  # so the text differs from what was sent
    writes_before = len(sandbox.writes())

    again = cli("provision", "--yes", "--json")

    assert again.exit_code == 0, again.stderr
    assert len(sandbox.writes()) == writes_before
    assert json.loads(again.stdout)["summary"] == {"create": 0, "update": 0, "delete": 0, "destructive": 0}


def test_plan_detailed_exitcode_is_2_with_changes_and_0_without(cli, sandbox: Sandbox) -> None:
    before = cli("plan", "--detailed-exitcode")
    assert before.exit_code == 2
    assert "+ create table mcp_sessions" in before.stderr
    assert sandbox.writes() == []
    cli("provision", "--yes")
    after = cli("plan", "--detailed-exitcode", "--json")
    assert after.exit_code == 0
    assert json.loads(after.stdout)["changes"] == []


def test_without_a_terminal_provision_needs_yes_and_writes_nothing(cli, sandbox: Sandbox) -> None:
    result = cli("provision")
    assert result.exit_code == 64
    assert "--yes" in result.stderr
    assert sandbox.writes() == []


def test_a_destructive_change_is_shown_and_blocked_until_allowed(cli, sandbox: Sandbox) -> None:
    cli("provision", "--yes")
    client = xano_client(sandbox)
    group = next(g for g in client.list_api_groups() if g["name"] == "mcp")
    client.create_api(group["id"], 'query "debug" verb=GET {\n  input {\n  }\n\n  stack {\n  }\n\n'
                                   '  response = null\n}\n')
    writes = len(sandbox.writes())
    blocked = cli("provision", "--yes")
    assert blocked.exit_code == 3
    assert "- delete endpoint GET /debug" in blocked.stderr
    assert "--allow-destructive" in blocked.stderr
    assert len(sandbox.writes()) == writes
    allowed = cli("provision", "--yes", "--allow-destructive")
    assert allowed.exit_code == 0
    assert "debug" not in [a["name"] for a in client.list_apis(group["id"])]


def test_a_bad_schema_file_stops_before_anything_is_sent(cli, sandbox: Sandbox, project: Path) -> None:
    (project / "schemas").mkdir()
    (project / "schemas" / "broken.toml").write_text(
        '[table]\nname = "t"\n\n[[fields]]\nname = "a"\ntype = "strng"\n'
    )
    result = cli("provision", "--yes")
    assert result.exit_code == 8
    assert "broken.toml:6" in result.stderr
    assert sandbox.requests == []


def test_the_trace_records_every_call_without_the_token(cli, sandbox: Sandbox, project: Path) -> None:
    trace = project / "trace.jsonl"
    assert cli("provision", "--yes", "--trace", str(trace)).exit_code == 0
    entries = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(entries) == len(sandbox.requests)
    assert credentials.XANO_METADATA_TOKEN not in trace.read_text()
    creates = [e for e in entries if e["method"] == "POST" and e["url"].endswith("/api")]
    assert {e["request_content_type"] for e in creates} == {"text/x-xanoscript"}


def test_a_rate_limit_in_the_middle_is_waited_out(cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(match=r"POST /api:meta/workspace/1/apigroup/\d+/api", status=429, retry_after=0, times=2))
    result = cli("provision", "--yes")
    assert result.exit_code == 0, result.stderr
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_dropped_connection_fails_clearly_and_a_rerun_converges(cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(Fault(match=r"POST /api:meta/workspace/1/apigroup$", drop=True))
    failed = cli("provision", "--yes")
    assert failed.exit_code == 7
    assert "POST" in failed.stderr and "apigroup" in failed.stderr
    assert "run provision again" in failed.stderr
    rerun = cli("provision", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_the_provisioned_endpoints_serve_sessions_and_usage_logs(cli, sandbox: Sandbox) -> None:
    report = json.loads(cli("provision", "--yes", "--json").stdout)
    base = report["outputs"]["xano_api_base_url"]
    created = httpx.post(f"{base}/mcp_sessions", json={"session_id": "s-1", "user_id": "u-1",
                                                       "client_info": {"name": "inspector"}})
    assert created.status_code == 200
    assert created.json()["status"] == "active"
    fetched = httpx.get(f"{base}/mcp_sessions/s-1")
    assert fetched.status_code == 200 and fetched.json()["user_id"] == "u-1"
    assert httpx.get(f"{base}/mcp_sessions/nope").status_code == 404
    touched = httpx.put(f"{base}/mcp_sessions/s-1", json={"last_active": 1700000000000})
    assert touched.status_code == 200
    assert touched.json()["status"] == "active"  # what the PUT left out keeps its value
    assert touched.json()["last_active"] == 1700000000000
    updated = httpx.put(f"{base}/mcp_sessions/s-1", json={"status": "closed"})
    assert updated.status_code == 200 and updated.json()["status"] == "closed"
    assert httpx.put(f"{base}/mcp_sessions/nope", json={"status": "closed"}).status_code == 404
    logged = httpx.post(f"{base}/usage_logs", json={"session_id": "s-1", "user_id": "u-1", "tool_name": "echo",
                                                    "duration": 12, "cost": 0.002})
    assert logged.status_code == 200 and logged.json()["tool_name"] == "echo"


def test_sandbox_flag_needs_no_setup_and_is_idempotent(cli, project: Path) -> None:
    first = cli("provision", "--sandbox", "--yes")
    assert first.exit_code == 0, first.stderr
    second = cli("provision", "--sandbox", "--yes")
    assert second.exit_code == 0
    assert "No changes" in second.stderr
    assert (project / ".mcpdeploy" / "sandbox" / "state.json").exists()


def test_nothing_is_configured_and_no_sandbox_gives_a_usage_error(cli, project: Path) -> None:
    result = cli("plan")
    assert result.exit_code == 64
    assert "XANO_INSTANCE_URL" in result.stderr


def test_json_output_keeps_stdout_pure_json(cli, sandbox: Sandbox) -> None:
    result = cli("plan", "--json")
    json.loads(result.stdout)
    assert "Plan for Xano workspace" in result.stderr
    assert "\x1b[" not in result.stderr  # NO_COLOR is set by the test isolation




def test_an_update_to_a_column_keeps_what_xano_owns_private_and_sensitive(cli, sandbox: Sandbox) -> None:
    cli("provision", "--yes")
    client = xano_client(sandbox)
    sessions = next(t for t in client.list_tables() if t["name"] == "mcp_sessions")
    schema = client.get_schema(sessions["id"])
    for column in schema:
        if column["name"] == "status":
            column.update(default="", access="private", sensitive=True)  # drifted, and made private by hand
    client.put_schema(sessions["id"], schema)
    result = cli("provision", "--yes", "--json")
    assert [c["kind"] for c in json.loads(result.stdout)["changes"]] == ["update_field"]
    [status] = [c for c in client.get_schema(sessions["id"]) if c["name"] == "status"]
    assert (status["default"], status["access"], status["sensitive"]) == ("active", "private", True)


def test_a_text_column_added_to_an_existing_table_gets_its_trim_filter(cli, sandbox: Sandbox) -> None:
    cli("provision", "--yes")
    client = xano_client(sandbox)
    logs = next(t for t in client.list_tables() if t["name"] == "usage_logs")
    client.put_schema(logs["id"], [c for c in client.get_schema(logs["id"]) if c["name"] != "ai_model"])
    plan = json.loads(cli("provision", "--yes", "--json").stdout)
    assert [c["resource"] for c in plan["changes"]] == ["field usage_logs.ai_model"]
    [ai_model] = [c for c in client.get_schema(logs["id"]) if c["name"] == "ai_model"]
    assert ai_model["validators"]["trim"] is True
    assert cli("plan", "--detailed-exitcode").exit_code == 0
