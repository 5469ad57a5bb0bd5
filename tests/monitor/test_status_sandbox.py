"""`status --sandbox` after a real flow: the sandbox's own `/mcp` driven by `smoke-test --sandbox` and by MCP
tool calls over loopback, then its numbers compared with what the sandbox received. Also: a stalled consumer, a
token without analytics permission, `--watch`, and `logs`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.project.settings import load_settings
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare_graphql import NO_ANALYTICS_TOKEN
from mcpdeploy.sandbox.core import Sandbox, SandboxRequest
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.session import record_served, sandbox_dir

ACCEPT = "application/json, text/event-stream"


@pytest.fixture
def box(project: Path) -> Iterator[Sandbox]:
    """The project's sandbox served on loopback, as `mcpdeploy sandbox serve` does: every `--sandbox` command of
    the test talks to this one server."""
    settings = load_settings(project)
    sandbox = Sandbox(sandbox_dir(settings))
    with SandboxServer(sandbox) as server:
        record_served(settings, server.url)
        yield sandbox


def _provisioned(cli: Any) -> None:
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    assert cli("sandbox", "deploy-worker").exit_code == 0
    assert cli("provision", "--sandbox", "--yes").exit_code == 0  # the consumer, now that the Worker exists


def _mcp(box: Sandbox, body: dict[str, Any], key: str | None = credentials.MCP_API_KEY,
         session: str | None = None) -> httpx.Response:
    headers = {"accept": ACCEPT, "content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    if session:
        headers["mcp-session-id"] = session
    return httpx.post(f"{box.url}/mcp", json=body, headers=headers)


def _session(box: Sandbox) -> str:
    answer = _mcp(box, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
    assert answer.status_code == 200
    session = answer.headers["mcp-session-id"]
    _mcp(box, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session=session)
    return session


def _call(box: Sandbox, session: str, text: str) -> None:
    answer = _mcp(box, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"text": text}}}, session=session)
    assert answer.status_code == 200 and answer.json()["result"]["isError"] is False


def _rpc(request: SandboxRequest) -> str:
    try:
        return str(json.loads(request.body or b"{}").get("method", ""))
    except ValueError:
        return ""


def _received(box: Sandbox) -> dict[str, int]:
    """What the sandbox's /mcp was sent: every request, and those with the valid key that start a session or
    call a tool."""
    mcp = [r for r in box.requests if r.path == "/mcp"]
    keyed = [r for r in mcp if r.headers.get("authorization") == f"Bearer {credentials.MCP_API_KEY}"]
    return {"requests": len(mcp), "sessions": sum(1 for r in keyed if _rpc(r) == "initialize"),
            "calls": sum(1 for r in keyed if _rpc(r) == "tools/call")}


def test_status_reports_exactly_the_requests_sessions_and_usage_of_the_flow(cli: Any, box: Sandbox) -> None:
    _provisioned(cli)
    smoke = cli("smoke-test", "--sandbox", "--call-tool", "echo", "--tool-args", '{"text": "smoke"}')
    assert smoke.exit_code == 0, smoke.stderr
    sessions = [_session(box), _session(box)]
    for n in range(5):
        _call(box, sessions[n % 2], f"call {n}")
    for key in (None, "not-a-key"):
        assert _mcp(box, {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}, key=key).status_code == 401
    expected = _received(box)
    assert expected["calls"] == 6 and expected["sessions"] >= 3

    result = cli("status", "--sandbox", "--json", "--since", "1h")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == "1" and document["verdict"] == "healthy"
    assert document["worker"]["requests"] == expected["requests"]
    assert document["worker"]["errors"] == 0
    assert sum(document["worker"]["requests_series"]) == expected["requests"]
    assert document["sessions"]["active_24h"] == expected["sessions"]
    assert document["usage"]["events"] == expected["calls"]
    assert document["usage"]["top_tools"] == [{"name": "echo", "count": expected["calls"]}]
    assert document["queue"]["written"] == expected["calls"] == document["queue"]["acked"]
    assert document["queue"]["backlog"] == 0 and document["queue"]["consumer"]["script"] == credentials.WORKER_NAME
    assert document["usage"]["cost"] == pytest.approx(0.0002 * expected["calls"])
    assert document["calls"] == sum(s["calls"] for s in document["sources"])


def test_a_stalled_consumer_is_reported_with_its_cause_and_exit_12(cli: Any, box: Sandbox) -> None:
    _provisioned(cli)
    session = _session(box)
    _call(box, session, "before")
    assert cli("sandbox", "pause-delivery").exit_code == 0
    for n in range(3):
        _call(box, session, f"stalled {n}")

    stalled = cli("status", "--sandbox", "--json")
    assert stalled.exit_code == 12, stalled.stdout
    document = json.loads(stalled.stdout)
    assert document["verdict"] == "degraded" and document["queue"]["backlog"] == 3
    finding = document["findings"][0]
    assert finding["code"] == "usage_stalled" and finding["severity"] == "critical"
    assert "usage logging stalled" in finding["message"] and "3 messages waiting" in finding["message"]
    assert finding["next_command"] == "wrangler queues resume-delivery usage-queue"
    people = cli("status", "--sandbox")
    assert people.exit_code == 12 and "DEGRADED" in people.stderr and "usage logging stalled" in people.stderr

    assert cli("sandbox", "resume-delivery").exit_code == 0
    recovered = cli("status", "--sandbox", "--json")
    assert recovered.exit_code == 0, recovered.stdout
    assert json.loads(recovered.stdout)["usage"]["events"] == 4


def test_without_analytics_permission_the_permission_is_named_and_the_rest_shows(
        cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    _provisioned(cli)
    _call(box, _session(box), "one")
    monkeypatch.setenv("XANO_INSTANCE_URL", str(box.url))
    monkeypatch.setenv("XANO_WORKSPACE_ID", str(credentials.XANO_WORKSPACE_ID))
    monkeypatch.setenv("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", f"{box.url}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", credentials.CLOUDFLARE_ACCOUNT_ID)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", NO_ANALYTICS_TOKEN)
    monkeypatch.setenv("MCPDEPLOY_WORKER_NAME", credentials.WORKER_NAME)

    result = cli("status", "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    analytics = next(s for s in document["sources"] if s["name"] == "cloudflare_analytics")
    assert analytics["state"] == "partial" and "Account Analytics: Read" in analytics["message"]
    assert document["worker"]["requests"] is None  # unknown, not zero
    assert document["queue"]["consumer"]["script"] == credentials.WORKER_NAME and document["queue"]["backlog"] == 0
    assert document["usage"]["events"] == 1 and document["sessions"]["active_15m"] == 1
    people = cli("status")
    assert "Account Analytics: Read" in people.stderr and NO_ANALYTICS_TOKEN not in people.stderr + people.stdout


def test_watch_redraws_in_place_and_since_is_checked(cli: Any, box: Sandbox) -> None:
    _provisioned(cli)
    watched = cli("status", "--sandbox", "--watch", "--interval", "1", "--rounds", "2", "--since", "24h")
    assert watched.exit_code == 0 and "HEALTHY" in watched.stderr and "last 24h" in watched.stderr
    assert cli("status", "--sandbox", "--since", "2w").exit_code == 64
    assert cli("status", "--sandbox", "--watch", "--json").exit_code == 64


def test_logs_filter_refused_keys_and_never_print_a_key(cli: Any, box: Sandbox) -> None:
    _provisioned(cli)
    _call(box, _session(box), "fine")
    assert _mcp(box, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, key="sk-live-wrong-key").status_code == 401
    refused = cli("logs", "--sandbox", "--refused")
    assert refused.exit_code == 0
    assert refused.stdout.count("POST /mcp  401") == 1 and "API key refused" in refused.stdout
    every = cli("logs", "--sandbox", "--json")
    lines = [json.loads(line) for line in every.stdout.splitlines()]
    assert len(lines) == _received(box)["requests"] and all(line["schema_version"] == "1" for line in lines)
    for secret in (credentials.MCP_API_KEY, "sk-live-wrong-key", credentials.CLOUDFLARE_API_TOKEN):
        assert secret not in every.stdout + refused.stdout


def test_logs_from_saved_wrangler_tail_output_mask_every_key(cli: Any, project: Path) -> None:
    event = {"outcome": "exception", "scriptName": "mcp-server", "eventTimestamp": 1700000000000,
             "exceptions": [{"name": "Error", "message": "xano refused Bearer xk_live_123456789", "timestamp": 1}],
             "logs": [{"level": "error", "message": ["retry with", {"api_key": "ak_987654321"}], "timestamp": 1},
                      {"level": "log", "message": ["token=tok_abcdef123 sent"], "timestamp": 1}],
             "event": {"request": {"url": "https://w.example.workers.dev/mcp?key=q_secret_key", "method": "POST",
                                   "headers": {"authorization": "Bearer hdr_secret_555"}},
                       "response": {"status": 500}}}
    ok = {**event, "outcome": "ok", "exceptions": [], "logs": [], "event": {"request": {
        "url": "https://w.example.workers.dev/mcp", "method": "POST"}, "response": {"status": 200}}}
    saved = project / "tail.json"
    saved.write_text("Successfully created tail\n" + json.dumps(ok, indent=2) + "\n" + json.dumps(event, indent=2))
    result = cli("logs", "--input", str(saved), "--errors")
    assert result.exit_code == 0
    assert result.stdout.startswith("2023-11-14T22:13:20Z  POST /mcp  500  exception")
    assert "  200  " not in result.stdout
    for secret in ("xk_live_123456789", "ak_987654321", "tok_abcdef123", "q_secret_key", "hdr_secret_555"):
        assert secret not in result.stdout
