"""The sandbox's /mcp: a legacy-era Streamable HTTP server behind the Worker's bearer check (auth/me)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.mcp_http import McpHttpClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.mcp_endpoint import AUTH_ME_PATH
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.smoke.checks import run_smoke_test
from mcpdeploy.smoke.model import SmokeOptions

BOTH = "application/json, text/event-stream"
KEY = credentials.MCP_API_KEY


class StubAuthMe:
    """Xano's auth/me as the sandbox's Xano runtime serves it: 200 + the user for the sandbox key, else 401.
    Mounted first, so these tests do not depend on the Xano runtime's own routing."""

    prefix = AUTH_ME_PATH

    def __init__(self) -> None:
        self.calls = 0

    def claims(self, path: str) -> bool:
        return path == AUTH_ME_PATH

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        self.calls += 1
        if request.bearer() == KEY:
            return SandboxResponse.json(200, credentials.MCP_USER)
        return SandboxResponse.json(401, {"code": "ERROR_CODE_UNAUTHORIZED", "message": "Unauthorized"})


@pytest.fixture
def sandbox() -> Sandbox:
    box = Sandbox(None)
    box.services.insert(0, StubAuthMe())
    return box


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="http://sandbox") as client:
        yield client


def rpc(method: str, request_id: int | None = 1, **params: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        message["id"] = request_id
    return message


def headers(key: str | None = KEY, session: str | None = None, accept: str = BOTH) -> dict[str, str]:
    out = {"Accept": accept, "Content-Type": "application/json"}
    if key:
        out["Authorization"] = f"Bearer {key}"
    if session:
        out["Mcp-Session-Id"] = session
    return out


def initialize(http: httpx.Client) -> str:
    answer = http.post("/mcp", headers=headers(), json=rpc("initialize", protocolVersion="2025-06-18",
                                                           capabilities={}, clientInfo={"name": "t"}))
    assert answer.status_code == 200
    assert answer.json()["result"]["protocolVersion"] == "2025-06-18"
    return answer.headers["mcp-session-id"]


def test_the_smoke_test_passes_against_the_sandbox_endpoint(sandbox: Sandbox) -> None:
    options = SmokeOptions(mcp_url="http://sandbox/mcp", xano_url="http://sandbox/api:e6emygx3",
                           call_tool="echo", tool_args={"text": "hi"}, expect_tools=("echo",), min_tools=1)
    with McpHttpClient(KEY, HttpOptions(transport=SandboxTransport(sandbox))) as client:
        report = run_smoke_test(client, options)
    assert {c.id: c.status.value for c in report.checks} == {
        "xano.auth_me": "pass", "xano.auth_me.no_token": "pass", "mcp.reachable": "pass",
        "mcp.auth.no_token": "pass", "mcp.auth.wrong_token": "pass", "mcp.auth.www_authenticate": "pass",
        "mcp.initialize": "pass", "mcp.tools_list": "pass", "mcp.tools_call": "pass", "mcp.seed_curl": "pass",
        "mcp.session_delete": "pass",
    }
    assert report.tools == ["echo", "whoami"]
    assert "406" in next(c.reason for c in report.checks if c.id == "mcp.seed_curl")


def test_every_request_is_checked_against_auth_me_like_a_worker_does(sandbox: Sandbox,
                                                                     http: httpx.Client) -> None:
    stub = sandbox.services[0]
    assert isinstance(stub, StubAuthMe)
    refused = http.post("/mcp", headers=headers(key="someone-else"), json=rpc("initialize"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="mcp"'
    assert http.post("/mcp", headers=headers(key=None), json=rpc("initialize")).status_code == 401
    assert stub.calls == 1  # no Authorization header: nothing to look up
    session = initialize(http)
    listed = http.post("/mcp", headers=headers(session=session), json=rpc("tools/list", 2))
    assert [t["name"] for t in listed.json()["result"]["tools"]] == ["echo", "whoami"]
    assert stub.calls == 3


def test_accept_must_name_json_and_event_stream_literally(http: httpx.Client) -> None:
    for accept in ("*/*", "application/json", "text/event-stream"):
        answer = http.post("/mcp", headers=headers(accept=accept), json=rpc("initialize"))
        assert answer.status_code == 406, accept
        assert "Not Acceptable" in answer.json()["error"]["message"]


def test_content_type_must_be_json(http: httpx.Client) -> None:
    answer = http.post("/mcp", headers={**headers(), "Content-Type": "text/plain"}, content=b"{}")
    assert answer.status_code == 415


def test_requests_need_the_session_that_initialize_issued(http: httpx.Client) -> None:
    missing = http.post("/mcp", headers=headers(), json=rpc("tools/list"))
    assert missing.status_code == 400
    assert "Mcp-Session-Id header is required" in missing.json()["error"]["message"]
    unknown = http.post("/mcp", headers=headers(session="nope"), json=rpc("tools/list"))
    assert unknown.status_code == 404
    session = initialize(http)
    note = http.post("/mcp", headers=headers(session=session), json=rpc("notifications/initialized", None))
    assert (note.status_code, note.content) == (202, b"")


def test_tools_call_answers_and_reports_tool_errors_as_results(http: httpx.Client) -> None:
    session = initialize(http)
    echo = http.post("/mcp", headers=headers(session=session),
                     json=rpc("tools/call", 3, name="echo", arguments={"text": "bonjour"}))
    assert echo.json()["result"] == {"content": [{"type": "text", "text": "bonjour"}], "isError": False}
    who = http.post("/mcp", headers=headers(session=session), json=rpc("tools/call", 4, name="whoami"))
    assert who.json()["result"]["content"][0]["text"] == f"user {credentials.MCP_USER['id']}"
    unknown = http.post("/mcp", headers=headers(session=session), json=rpc("tools/call", 5, name="nope"))
    assert unknown.json()["result"]["isError"] is True


def test_delete_ends_the_session_and_get_is_not_offered(http: httpx.Client) -> None:
    session = initialize(http)
    assert http.delete("/mcp", headers=headers(session=session)).status_code == 200
    after = http.post("/mcp", headers=headers(session=session), json=rpc("tools/list"))
    assert after.status_code == 404
    assert http.get("/mcp", headers=headers()).status_code == 405


def test_malformed_json_is_a_parse_error(http: httpx.Client) -> None:
    answer = http.post("/mcp", headers=headers(), content=b"{nope")
    assert answer.status_code == 400
    assert json.loads(answer.text)["error"]["code"] == -32700
