"""Real MCP servers for the smoke tests, built with the official MCP Python SDK and served by uvicorn on loopback.

Each server runs in its own thread and port. The good ones sit behind `BearerAuth`, a middleware like a Worker's:
the key must match or the answer is 401 with a Bearer challenge. Each also serves a Xano-like `auth/me` under
`/api:test`, so a full run (Xano checks included) can pass. The misbehaving ones show what smoke-test must catch.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

# A recognisable key: the tests search every output for it.
API_KEY = "smk-PLANTED-7f3a9c21e4b8d605-key"
XANO_GROUP = "/api:test"
USER = {"id": 7, "name": "Smoke Tester", "email": "smoke@example.com"}
MODERN = "2026-07-28"


async def send_answer(send: Send, status: int, body: bytes, content_type: str,
                      headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, plus the messages read, so they can be replayed to the wrapped app."""
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks), messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode() for k, v in scope.get("headers", []) if k.lower() == name), "")


class BearerAuth:
    """Refuse any request whose bearer is not API_KEY (401 + WWW-Authenticate); serve Xano's auth/me beside."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorized = _header(scope, b"authorization") == f"Bearer {API_KEY}"
        if scope["path"] == f"{XANO_GROUP}/auth/me":
            if authorized:
                await send_answer(send, 200, json.dumps(USER).encode(), "application/json")
            else:
                await send_answer(send, 401, b'{"code":"ERROR_CODE_UNAUTHORIZED","message":"Unauthorized"}',
                                  "application/json")
            return
        if not authorized:
            await send_answer(send, 401, b'{"error":"invalid_token"}', "application/json",
                              [(b"www-authenticate", b'Bearer realm="mcp"')])
            return
        await self.app(scope, receive, send)


class ModernOnly:
    """Turn the SDK (which speaks both eras) into a 2026-07-28-only server: legacy requests get 400 -32022."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "POST":
            await send_answer(send, 405, b"", "text/plain", [(b"allow", b"POST")])
            return
        if scope["type"] == "http" and _header(scope, b"mcp-protocol-version") != MODERN:
            error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32022, "message": "Unsupported protocol "
                     "version", "data": {"supported": [MODERN]}}}
            await send_answer(send, 400, json.dumps(error).encode(), "application/json")
            return
        await self.app(scope, receive, send)


class SlowMethod:
    """Delay the answer to one JSON-RPC method (every request when method is None)."""

    def __init__(self, app: Asgi, method: str | None, seconds: float) -> None:
        self.app, self.method, self.seconds = app, method, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, messages = await read_body(receive)
        if self.method is None or f'"method":"{self.method}"' in body.decode().replace(" ", ""):
            await asyncio.sleep(self.seconds)
        await self.app(scope, replay(messages, receive), send)


def canned(status: int, body: str, content_type: str, headers: list[tuple[bytes, bytes]] | None = None,
           echo_authorization: bool = False) -> Asgi:
    """An app answering every HTTP request the same way (optionally echoing the Authorization header back,
    as careless error pages do, to prove smoke-test redacts what servers reflect)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]
                await send({"type": event + ".complete"})
                if event == "lifespan.shutdown":
                    return
        await read_body(receive)
        text = body + (f" (request had {_header(scope, b'authorization')!r})" if echo_authorization else "")
        await send_answer(send, status, text.encode(), content_type, headers)

    return app


async def lingering_sse(scope: Scope, receive: Receive, send: Send) -> None:
    """A hand-written server whose tools/list stream stays open after the response, as servers that reuse the
    stream for later notifications do: a client that waits for the stream to end would hang."""
    if scope["type"] == "lifespan":
        await canned(200, "", "text/plain")(scope, receive, send)
        return
    body, _ = await read_body(receive)
    message = json.loads(body or b"{}")
    if scope["method"] != "POST" or "text/event-stream" not in _header(scope, b"accept"):
        await send_answer(send, 406 if scope["method"] == "POST" else 405, b"", "text/plain")
    elif message.get("method") == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "lingering", "version": "0"}}
        await send_answer(send, 200, json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode(),
                          "application/json")
    elif "id" not in message:
        await send_answer(send, 202, b"", "text/plain")
    else:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        tools = {"jsonrpc": "2.0", "id": message["id"], "result": {"tools": [{"name": "lingering"}]}}
        for chunk in (b"id: 0\ndata:\n\n", b": keep-alive\n\n",
                      b'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n',
                      b"event: message\ndata: " + json.dumps(tools).encode() + b"\n\n"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await asyncio.sleep(3.0)
        await send({"type": "http.response.body", "body": b""})


def sdk_server(*, with_tools: bool = True) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("smoke-fixture", version="1.2.3", log_level="WARNING")
    if with_tools:
        @server.tool()
        def echo(text: str) -> str:
            """Return the text."""
            return text

        @server.tool()
        def explode() -> str:
            """Always fails."""
            raise ToolError("the tool blew up")
    return server


CLOUDFLARE_1101 = """<!DOCTYPE html><html><head><title>Worker threw exception | x.workers.dev | Cloudflare</title>
</head><body><div id="cf-error-details"><h1>Error 1101</h1><p>Worker threw exception</p>
<p>Cloudflare Ray ID: 8a1b2c3d4e5f6a7b</p></div></body></html>"""
PLACEHOLDER_HTML = "<!doctype html><html><head><title>Welcome to my site</title></head><body>Hi</body></html>"


def build_apps() -> dict[str, Asgi]:
    """Every fixture server by name."""
    return {
        "sse_stateful": BearerAuth(sdk_server().streamable_http_app()),
        "json_stateless": BearerAuth(sdk_server().streamable_http_app(stateless_http=True, json_response=True)),
        "modern_only": BearerAuth(ModernOnly(sdk_server().streamable_http_app(stateless_http=True))),
        "empty_tools": BearerAuth(sdk_server(with_tools=False).streamable_http_app()),
        "slow_tools_list": BearerAuth(SlowMethod(sdk_server().streamable_http_app(), "tools/list", 3.0)),
        "hanging": SlowMethod(canned(200, "{}", "application/json"), None, 3.0),
        "sse_lingering": BearerAuth(lingering_sse),
        "public": sdk_server().streamable_http_app(),
        "error_500": canned(500, "Internal Server Error", "text/plain", echo_authorization=True),
        "html_page": canned(200, PLACEHOLDER_HTML, "text/html; charset=utf-8"),
        "cloudflare_1101": canned(500, CLOUDFLARE_1101, "text/html; charset=UTF-8",
                                  [(b"server", b"cloudflare"), (b"cf-ray", b"8a1b2c3d4e5f6a7b-AMS")]),
    }


@dataclass
class RunningServer:
    name: str
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def xano_url(self) -> str:
        return f"{self.base_url}{XANO_GROUP}"


def start(name: str, app: Asgi) -> RunningServer:
    # IPPROTO_TCP spelled out: asyncio turns Nagle off only for sockets whose proto says TCP, and without
    # that every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"mcp-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"fixture server {name} did not start")
        time.sleep(0.01)
    return RunningServer(name, f"http://127.0.0.1:{port}", server, thread)


def stop(running: RunningServer) -> None:
    running.server.should_exit = True
    running.thread.join(timeout=10)


_started: dict[str, RunningServer] = {}
_start_lock = threading.Lock()


def fixture_servers() -> dict[str, RunningServer]:
    """Start every fixture server once per test process: the session fixtures of tests/smoke and tests/cli
    share them, and stop them with `stop_fixture_servers` when the session ends."""
    with _start_lock:
        if not _started:
            for name, app in build_apps().items():
                _started[name] = start(name, app)
        return _started


def stop_fixture_servers() -> None:
    # All at once and without waiting for the slow fixtures' sleeping handlers: the tests are over.
    for running in _started.values():
        running.server.should_exit = running.server.force_exit = True
    for running in _started.values():
        running.thread.join(timeout=5)
    with _start_lock:
        _started.clear()
