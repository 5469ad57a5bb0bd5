"""`mcpdeploy auth disable|enable|status` on the project's sandbox: loud, limited in time, journaled, and honoured
by the sandbox's /mcp (and reported by smoke-test) only while the window is open. No test sleeps: the endpoint's
clock is set by the test."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from mcpdeploy.rollback.auth_switch import SWITCH_SECRET
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare import deployed_secret_value
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import McpEndpoint
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.state.lock import Lock

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t"}}}
NO_KEY = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def deployed(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("sandbox", "deploy-worker").exit_code == 0


def project_sandbox(project: Path) -> Sandbox:
    return Sandbox(project / ".mcpdeploy" / "sandbox")


def keyless_status_at(project: Path, now: datetime) -> int:
    sandbox = project_sandbox(project)
    endpoint = next(s for s in sandbox.services if isinstance(s, McpEndpoint))
    endpoint.clock = lambda: now
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="http://sandbox") as http:
        return http.post("/mcp", headers=NO_KEY, json=INITIALIZE).status_code


def test_disable_is_loud_and_the_switch_expires_by_itself(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    started = datetime.now(timezone.utc)

    result = cli("auth", "disable", "--for", "2s", "--sandbox", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    until = datetime.fromisoformat(document["disabled_until"].replace("Z", "+00:00"))
    assert timedelta(seconds=2) <= until - started.replace(microsecond=0) <= timedelta(seconds=4)
    assert "WARNING: AUTHENTICATION IS OFF for Worker mcp-server" in result.stderr
    assert f"until {document['disabled_until']}" in result.stderr
    assert "mcpdeploy auth enable --sandbox" in result.stderr
    assert keyless_status_at(project, until - timedelta(seconds=1)) == 200
    assert keyless_status_at(project, until) == 401
    assert keyless_status_at(project, until + timedelta(hours=1)) == 401


def test_status_shows_off_with_time_left_then_enable_turns_it_on(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    assert cli("auth", "disable", "--for", "15m", "--sandbox", "--yes").exit_code == 0

    status = cli("auth", "status", "--sandbox", "--json")
    document = json.loads(status.stdout)
    assert (document["auth"], document["switch_set"]) == ("off", True)
    assert 14 * 60 <= document["seconds_left"] <= 15 * 60
    assert "Authentication is OFF for mcp-server until" in status.stderr and "left" in status.stderr
    assert "Authentication is OFF for mcp-server until" in cli("auth", "status", "--sandbox").stdout

    enabled = cli("auth", "enable", "--sandbox")
    assert enabled.exit_code == 0
    assert "Authentication is back ON for mcp-server" in enabled.stderr
    assert json.loads(cli("auth", "status", "--sandbox", "--json").stdout)["auth"] == "on"
    assert keyless_status_at(project, datetime.now(timezone.utc)) == 401

    writes_before = (project / ".mcpdeploy" / "sandbox" / "state.json").read_bytes()
    again = cli("auth", "enable", "--sandbox")
    assert again.exit_code == 0 and "Nothing to do" in again.stderr
    assert (project / ".mcpdeploy" / "sandbox" / "state.json").read_bytes() == writes_before


def test_disable_needs_a_duration_within_the_limit(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    assert cli("auth", "disable", "--sandbox", "--yes").exit_code == 64
    too_long = cli("auth", "disable", "--for", "2h", "--sandbox", "--yes")
    assert too_long.exit_code == 64 and "at most 1h" in too_long.stderr and "max_disable" in too_long.stderr

    (project / "mcpdeploy.toml").write_text('[auth]\nmax_disable = "3h"\n')
    assert cli("auth", "disable", "--for", "2h", "--sandbox", "--yes").exit_code == 0


def test_without_a_terminal_disable_needs_yes(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    result = cli("auth", "disable", "--for", "15m", "--sandbox")
    assert result.exit_code == 64 and "--yes" in result.stderr
    assert deployed_secret_value(project_sandbox(project), "mcp-server", SWITCH_SECRET) is None


def test_after_a_rollback_disable_explains_why_cloudflare_refuses(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    deployed(cli)
    assert cli("rollback", "--sandbox", "--yes").exit_code == 0

    result = cli("auth", "disable", "--for", "15m", "--sandbox", "--yes")

    assert result.exit_code == 6
    assert "latest version is the one serving all traffic" in result.stderr and "10215" in result.stderr
    assert "`mcpdeploy sandbox deploy-worker`" in result.stderr and "`wrangler deploy`" not in result.stderr


def test_a_secret_switch_makes_a_later_rollback_stop_without_force(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    deployed(cli)
    assert cli("auth", "disable", "--for", "15m", "--sandbox", "--yes").exit_code == 0

    refused = cli("rollback", "--sandbox", "--yes")

    assert refused.exit_code == 6 and SWITCH_SECRET in refused.stderr and "--force" in refused.stderr


def test_smoke_test_warns_while_auth_is_off(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    assert cli("auth", "disable", "--for", "15m", "--sandbox", "--yes").exit_code == 0

    result = cli("smoke-test", "--sandbox", "--json")

    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0
    assert checks["mcp.auth.no_token"]["status"] == "warn"
    assert "switched OFF until" in checks["mcp.auth.no_token"]["reason"]
    assert "mcpdeploy auth enable" in checks["mcp.auth.no_token"]["reason"]


def test_a_concurrent_run_gets_the_lock_exit_code(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deployed(cli)
    with Lock(project / ".mcpdeploy", None, command="rollback"):
        assert cli("auth", "disable", "--for", "15m", "--sandbox", "--yes").exit_code == 4
        assert cli("auth", "enable", "--sandbox").exit_code == 4
    assert deployed_secret_value(project_sandbox(project), "mcp-server", SWITCH_SECRET) is None


def test_the_switch_value_and_the_token_stay_out_of_journal_trace_and_output(cli, project: Path,  # type: ignore[no-untyped-def]
                                                                             tmp_path: Path) -> None:
    deployed(cli)
    trace = tmp_path / "trace.jsonl"
    outputs = [cli("auth", "disable", "--for", "15m", "--sandbox", "--yes", "--json", "--trace", str(trace))]
    planted = deployed_secret_value(project_sandbox(project), "mcp-server", SWITCH_SECRET)
    outputs += [cli("auth", "status", "--sandbox", "--json", "--trace", str(trace)),
                cli("auth", "enable", "--sandbox", "--json", "--trace", str(trace))]

    assert planted is not None and planted.isdigit()
    journal = (project / ".mcpdeploy" / "journal" / "default.jsonl").read_text()
    assert SWITCH_SECRET in trace.read_text()
    for text in (journal, trace.read_text(), *(o.stdout + o.stderr for o in outputs)):
        assert planted not in text
        assert credentials.CLOUDFLARE_API_TOKEN not in text


def test_the_sandbox_honours_the_switch_of_a_worker_named_in_wrangler_toml(cli, project: Path) -> None:
    (project / "wrangler.toml").write_text('name = "my-mcp"\nmain = "src/index.ts"\n')
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    assert cli("sandbox", "deploy-worker").exit_code == 0
    plan = json.loads(cli("plan", "--sandbox", "--json").stdout)
    assert plan["target"]["cloudflare"]["worker"] == "my-mcp"
    assert cli("auth", "disable", "--for", "5m", "--sandbox", "--yes").exit_code == 0
    smoke = json.loads(cli("smoke-test", "--sandbox", "--json").stdout)
    no_token = next(c for c in smoke["checks"] if c["id"] == "mcp.auth.no_token")
    assert no_token["status"] == "warn"  # let through while the switch is on, and reported as such
