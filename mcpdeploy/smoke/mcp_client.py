"""A Streamable HTTP MCP client for both protocol eras, as small as a smoke test needs.

Legacy era (2025-03-26 ... 2025-11-25): `initialize`, then `notifications/initialized`; every later request
carries `Mcp-Session-Id` (when the server gave one) and `MCP-Protocol-Version`.
Modern era (2026-07-28): no handshake and no session; every request carries `_meta` with the protocol version
and client capabilities, mirrored in the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers;
`server/discover` replaces `initialize`.
Answers may be one JSON object or an SSE stream holding the response among notifications; both are read.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from mcpdeploy import __version__
from mcpdeploy.providers.mcp_http import Credential, HttpAnswer, HttpCall, McpHttpClient, StopReading
from mcpdeploy.smoke.sse import SseParser, SseTooLarge, parse_sse

LEGACY_VERSION = "2025-11-25"  # the newest legacy revision; servers counter-offer one they speak
LEGACY_VERSIONS = frozenset({"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"})
MODERN_VERSION = "2026-07-28"
ACCEPT_BOTH = "application/json, text/event-stream"
# JSON-RPC errors only a 2026-07-28 server sends: header mismatch, missing capability, unsupported version.
MODERN_ERROR_CODES = frozenset({-32020, -32021, -32022})
CLIENT_INFO = {"name": "mcpdeploy", "version": __version__}
_HEADER_SAFE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


@dataclass
class RpcReply:
    """What one HTTP answer said as JSON-RPC: the response message with our id, or why there is none."""

    answer: HttpAnswer
    message: dict[str, Any] | None = None
    problem: str | None = None
    body_format: str = ""  # "json", "sse", or the content type when it is neither

    @property
    def result(self) -> dict[str, Any] | None:
        value = (self.message or {}).get("result")
        return value if isinstance(value, dict) else None

    @property
    def error(self) -> dict[str, Any] | None:
        value = (self.message or {}).get("error")
        return value if isinstance(value, dict) else None


@dataclass
class Exchange:
    call: HttpCall
    reply: RpcReply


@dataclass
class SessionState:
    era: str = ""  # "legacy" or "modern" once known
    protocol_version: str = ""
    session_id: str | None = None
    server_info: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, Any] = field(default_factory=dict)
    response_formats: set[str] = field(default_factory=set)


def read_reply(answer: HttpAnswer, request_id: int | None) -> RpcReply:
    """Find the JSON-RPC response with `request_id` in a JSON or SSE body (None: any message)."""
    ctype = answer.content_type
    if ctype == "text/event-stream":
        try:
            events = parse_sse(answer.body)
        except SseTooLarge as exc:
            return RpcReply(answer, problem=f"the event stream is not usable: {exc}", body_format="sse")
        for event in events:
            message = _json_object(event.data)
            if message is not None and _answers(message, request_id):
                return RpcReply(answer, message, body_format="sse")
        return RpcReply(answer, problem="the event stream ended without a response to our request",
                        body_format="sse")
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            decoded = json.loads(answer.text)
        except ValueError:
            return RpcReply(answer, problem=f"the body is not valid JSON: '{answer.excerpt(answer.text, 80)}'",
                            body_format="json")
        candidates = decoded if isinstance(decoded, list) else [decoded]
        for message in candidates:
            if isinstance(message, dict) and _answers(message, request_id):
                return RpcReply(answer, message, body_format="json")
        return RpcReply(answer, problem="the JSON body is not a JSON-RPC response to our request",
                        body_format="json")
    shown = ctype or "no content type"
    return RpcReply(answer, problem=f"the answer is {shown}, not JSON or an event stream", body_format=shown)


def stop_when_answered(request_id: int) -> StopReading:
    """A `StopReading` callback for SSE bodies: stop once the response with our id has arrived."""
    parser = SseParser()

    def stop(chunk: bytes) -> bool:
        try:
            events = parser.feed(chunk)
        except SseTooLarge:
            return False  # read on to the size cap; `read_reply` then says what was wrong with the stream
        for event in events:
            message = _json_object(event.data)
            if message is not None and _answers(message, request_id):
                return True
        return False

    return stop


def modern_error_code(reply: RpcReply) -> int | None:
    """The code of a 2026-07-28-only JSON-RPC error in the body, if that is what the server answered."""
    message = reply.message
    if message is None and reply.answer.content_type == "application/json":
        message = _json_object(reply.answer.text)
    error = (message or {}).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) and code in MODERN_ERROR_CODES else None


def encode_header_value(value: str) -> str:
    """2026-07-28 header values: plain printable ASCII as is, anything else in the `=?base64?...?=` form."""
    if _HEADER_SAFE.fullmatch(value) and not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    return f"=?base64?{base64.b64encode(value.encode('utf-8')).decode('ascii')}?="


class McpClient:
    """Builds and sends MCP requests for one endpoint, remembering the era, version and session."""

    def __init__(self, http: McpHttpClient, url: str) -> None:
        self.http = http
        self.url = url
        self.state = SessionState()
        self._ids = itertools.count(1)

    def initialize_call(self, credential: Credential = Credential.KEY, other_token: str = "") -> HttpCall:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": "initialize",
                "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}}
        return HttpCall("POST", self.url, _base_headers(), _dump(body), credential, other_token)

    def discover_call(self, credential: Credential = Credential.KEY, other_token: str = "") -> HttpCall:
        return self._modern_call("server/discover", {}, credential, other_token)

    def seed_curl_call(self) -> HttpCall:
        """The deployment checklist's curl as written: no Accept, no handshake, no session."""
        body = b'{"jsonrpc":"2.0","method":"tools/list","id":1}'
        return HttpCall("POST", self.url, {"Content-Type": "application/json", "Accept": "*/*"}, body)

    def request_call(self, method: str, params: dict[str, Any]) -> HttpCall:
        if self.state.era == "modern":
            return self._modern_call(method, params)
        headers = _base_headers()
        headers.update(self._session_headers())
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        return HttpCall("POST", self.url, headers, _dump(body))

    def send(self, call: HttpCall) -> Exchange:
        request_id = _request_id(call)
        stop = stop_when_answered(request_id) if request_id is not None else None
        answer = self.http.send(call, stop)
        reply = read_reply(answer, request_id)
        if reply.message is not None:
            self.state.response_formats.add(reply.body_format)
        return Exchange(call, reply)

    def request(self, method: str, params: dict[str, Any] | None = None) -> Exchange:
        return self.send(self.request_call(method, params or {}))

    def adopt_legacy(self, exchange: Exchange) -> None:
        result = exchange.reply.result or {}
        self.state.era = "legacy"
        self.state.protocol_version = str(result.get("protocolVersion", ""))
        self.state.session_id = exchange.reply.answer.headers.get("mcp-session-id")
        self.state.server_info = _dict(result.get("serverInfo"))
        self.state.capabilities = _dict(result.get("capabilities"))

    def adopt_modern(self, exchange: Exchange) -> None:
        result = exchange.reply.result or {}
        self.state.era = "modern"
        self.state.protocol_version = MODERN_VERSION
        self.state.session_id = None
        self.state.server_info = _dict(_dict(result.get("_meta")).get("io.modelcontextprotocol/serverInfo"))
        self.state.capabilities = _dict(result.get("capabilities"))

    def initialized_notification(self) -> tuple[HttpCall, HttpAnswer]:
        headers = _base_headers()
        headers.update(self._session_headers())
        call = HttpCall("POST", self.url, headers, _dump({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        return call, self.http.send(call)

    def delete_session_call(self) -> HttpCall:
        return HttpCall("DELETE", self.url, self._session_headers())

    def _session_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.state.session_id:
            headers["Mcp-Session-Id"] = self.state.session_id
        if self.state.protocol_version:
            headers["MCP-Protocol-Version"] = self.state.protocol_version
        return headers

    def _modern_call(self, method: str, params: dict[str, Any], credential: Credential = Credential.KEY,
                     other_token: str = "") -> HttpCall:
        meta = {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        }
        headers = _base_headers()
        headers["MCP-Protocol-Version"] = MODERN_VERSION
        headers["Mcp-Method"] = method
        name = params.get("name") if method in ("tools/call", "prompts/get") else params.get("uri")
        if method in ("tools/call", "prompts/get", "resources/read") and isinstance(name, str):
            headers["Mcp-Name"] = encode_header_value(name)
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                "params": {**params, "_meta": meta}}
        return HttpCall("POST", self.url, headers, _dump(body), credential, other_token)


def _base_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _request_id(call: HttpCall) -> int | None:
    body = _json_object(call.body.decode("utf-8")) if call.body else None
    value = (body or {}).get("id")
    return value if isinstance(value, int) else None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _answers(message: dict[str, Any], request_id: int | None) -> bool:
    if "result" not in message and "error" not in message:
        return False  # a notification or a server request on the stream
    return request_id is None or message.get("id") == request_id or message.get("id") is None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
