"""The sandbox's `/mcp`: a small legacy-era Streamable HTTP MCP server behind the bearer check a deployed Worker
does, so `smoke-test --sandbox` has a real endpoint to judge.

Like the Worker, it looks every key up through Xano's `auth/me` (here: the sandbox's own, called in-process) and
answers 401 with a Bearer challenge when that is not a 200. It follows the transport rules real SDK servers
enforce: Accept must list JSON and SSE (406), Content-Type must be JSON (415), `initialize` issues an
Mcp-Session-Id, any other request without a live session is a 400 (unknown session: 404), and DELETE ends the
session. Sessions live in memory: a Worker keeps them in Durable Objects, not in the provisioned tables.

It honours the auth switch as templates/worker/auth-switch.mjs does: while the sandbox Worker's deployed
MCP_AUTH_DISABLED_UNTIL lies ahead (`clock` is now), no key is checked and every response carries
`mcp-auth-disabled-until`; outside that window nothing changes.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from mcpdeploy import __version__
from mcpdeploy.rollback.auth_switch import RESPONSE_HEADER, SWITCH_SECRET, disabled_until, iso
from mcpdeploy.sandbox import worker_runtime
from mcpdeploy.sandbox.analytics_store import now_ms
from mcpdeploy.sandbox.cloudflare import deployed_secret_value
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse

MCP_PATH = "/mcp"
AUTH_API_GROUP = "api:e6emygx3"  # the Xano API group whose auth/me the Worker calls
AUTH_ME_PATH = f"/{AUTH_API_GROUP}/auth/me"
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
SERVER_INFO = {"name": "mcpdeploy-sandbox", "version": __version__}
CHALLENGE = {"www-authenticate": 'Bearer realm="mcp"'}
# Who a request is while the auth switch lets it through without a key.
ANONYMOUS_USER: dict[str, Any] = {"id": None, "name": "anonymous (auth switched off)"}
TOOLS: list[dict[str, Any]] = [
    {
        "name": "echo",
        "description": "Return the text it is given.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
    {
        "name": "whoami",
        "description": "Return the Xano user the API key belongs to.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


def _rpc_error(status: int, code: int, message: str, request_id: Any = None,
               headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(status, {"jsonrpc": "2.0", "id": request_id,
                                         "error": {"code": code, "message": message}}, headers)


def _rpc_result(request_id: Any, result: dict[str, Any], headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse.json(200, {"jsonrpc": "2.0", "id": request_id, "result": result}, headers)


class McpEndpoint:
    prefix = MCP_PATH

    def __init__(self, sandbox: SandboxHost, clock: Callable[[], datetime] | None = None) -> None:
        self._sandbox = sandbox
        self._sessions: dict[str, dict[str, Any]] = {}  # session id -> {"user": ..., "version": ...}
        self._lock = threading.Lock()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))

    def claims(self, path: str) -> bool:
        return path == MCP_PATH

    def _switched_off_until(self) -> datetime | None:
        """This endpoint stands for the project's Worker, whatever its name: the switch of any Worker script in
        the sandbox counts (a sandbox holds one project's Worker)."""
        with self._sandbox.lock:
            scripts = list(self._sandbox.state.get("cloudflare", {}).get("scripts", {}))
        now = self.clock()
        windows = [disabled_until(deployed_secret_value(self._sandbox, script, SWITCH_SECRET), now)
                   for script in scripts]
        return max((until for until in windows if until is not None), default=None)

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        with worker_runtime.invocation(self._sandbox, request) as current:
            return worker_runtime.finish(current, self._answer(request))

    def _answer(self, request: SandboxRequest) -> SandboxResponse:
        until = self._switched_off_until()
        if until is None:
            return self._handle(request, self._authenticate(request))
        response = self._handle(request, ANONYMOUS_USER)
        response.headers[RESPONSE_HEADER] = iso(until)
        return response

    def _handle(self, request: SandboxRequest, user: dict[str, Any] | None) -> SandboxResponse:
        if user is None:
            return SandboxResponse.json(401, {"error": "invalid_token", "error_description":
                                              "a valid API key is required (Authorization: Bearer <key>)"},
                                        CHALLENGE)
        if request.method == "DELETE":
            return self._end_session(request)
        if request.method != "POST":
            # No server-to-client stream: the spec lets a server answer GET with 405.
            return SandboxResponse(405, b"", {"allow": "POST, DELETE"})
        accept = request.headers.get("accept", "")
        if not _accepts(accept, "application/json") or not _accepts(accept, "text/event-stream"):
            return _rpc_error(406, -32000, "Not Acceptable: Client must accept both application/json and "
                              "text/event-stream")
        if request.content_type != "application/json":
            return _rpc_error(415, -32000, "Unsupported Media Type: Content-Type must be application/json")
        try:
            message = request.json()
        except ValueError:
            return _rpc_error(400, -32700, "Parse error")
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "method" not in message:
            return _rpc_error(400, -32600, "Invalid Request: a single JSON-RPC request or notification")
        if message["method"] == "initialize":
            return self._initialize(message, user)
        session = self._session(request)
        if isinstance(session, SandboxResponse):
            return session
        if "id" not in message:
            return SandboxResponse(202)
        return self._dispatch(message, session)

    def _authenticate(self, request: SandboxRequest) -> dict[str, Any] | None:
        """Ask the sandbox's Xano `auth/me`, in-process, exactly as a Worker asks Xano over HTTP."""
        authorization = request.headers.get("authorization")
        if not authorization:
            return None
        answer = self._sandbox.handle(SandboxRequest(method="GET", path=AUTH_ME_PATH, query={},
                                                     headers={"authorization": authorization,
                                                              "accept": "application/json"}))
        if answer.status != 200:
            return None
        try:
            user = json.loads(answer.body.decode("utf-8"))
        except ValueError:
            return None
        return user if isinstance(user, dict) else None

    def _initialize(self, message: dict[str, Any], user: dict[str, Any]) -> SandboxResponse:
        params = _params(message)
        asked = str(params.get("protocolVersion", ""))
        version = asked if asked in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]
        session_id = secrets.token_hex(16)
        with self._lock:
            self._sessions[session_id] = {"user": user, "version": version, "id": session_id}
        worker_runtime.session_started(self._sandbox, session_id, user, params.get("clientInfo"))
        return _rpc_result(message.get("id"), {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": SERVER_INFO,
        }, {"mcp-session-id": session_id})

    def _session(self, request: SandboxRequest) -> dict[str, Any] | SandboxResponse:
        session_id = request.headers.get("mcp-session-id")
        if not session_id:
            return _rpc_error(400, -32600, "Bad Request: Mcp-Session-Id header is required")
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            return _rpc_error(404, -32001, "Session not found")
        version = request.headers.get("mcp-protocol-version")
        if version is not None and version not in SUPPORTED_VERSIONS:
            return _rpc_error(400, -32600, f"Bad Request: unsupported MCP-Protocol-Version {version}")
        return session

    def _dispatch(self, message: dict[str, Any], session: dict[str, Any]) -> SandboxResponse:
        request_id = message.get("id")
        params = _params(message)
        method = message["method"]
        if method == "ping":
            return _rpc_result(request_id, {})
        if method == "tools/list":
            return _rpc_result(request_id, {"tools": TOOLS})
        if method == "tools/call":
            started, name = now_ms(), str(params.get("name", ""))
            result = _call_tool(name, params.get("arguments"), session["user"])
            worker_runtime.tool_called(self._sandbox, session["id"], session["user"], name, params.get("arguments"),
                                       result, started)
            return _rpc_result(request_id, result)
        return _rpc_error(200, -32601, f"Method not found: {method}", request_id)

    def _end_session(self, request: SandboxRequest) -> SandboxResponse:
        session_id = request.headers.get("mcp-session-id")
        if not session_id:
            return _rpc_error(400, -32600, "Bad Request: Mcp-Session-Id header is required")
        with self._lock:
            found = self._sessions.pop(session_id, None)
        if found is not None:
            worker_runtime.session_touched(self._sandbox, session_id, "closed")
        return SandboxResponse(200) if found is not None else _rpc_error(404, -32001, "Session not found")


def _params(message: dict[str, Any]) -> dict[str, Any]:
    params = message.get("params")
    return params if isinstance(params, dict) else {}


def _call_tool(name: str, arguments: Any, user: dict[str, Any]) -> dict[str, Any]:
    args = arguments if isinstance(arguments, dict) else {}
    if name == "echo":
        if not isinstance(args.get("text"), str):
            return _tool_error("echo needs a string argument `text`")
        return {"content": [{"type": "text", "text": args["text"]}], "isError": False}
    if name == "whoami":
        return {"content": [{"type": "text", "text": f"user {user.get('id')}"}], "isError": False}
    return _tool_error(f"Unknown tool: {name}")


def _tool_error(text: str) -> dict[str, Any]:
    # Tool failures are results with isError, not JSON-RPC errors, as MCP servers report them.
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _accepts(accept: str, media_type: str) -> bool:
    # A literal test, as the TypeScript SDK that Workers run does: `*/*` (curl's default) is not enough.
    return media_type in accept.lower()


def mount(sandbox: SandboxHost) -> McpEndpoint:
    return McpEndpoint(sandbox)
