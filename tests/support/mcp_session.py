"""A small legacy-era MCP client for tests that drive a Worker directly: initialize, requests, DELETE."""

from __future__ import annotations

import json
from typing import Any

import httpx

ACCEPT = "application/json, text/event-stream"
VERSION = "2025-06-18"


def messages(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an answer, JSON or SSE."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        found = []
        for event in response.text.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip(" ") for line in event.split("\n") if line.startswith("data:"))
            if data:
                found.append(json.loads(data))
        return found
    body = response.json()
    return body if isinstance(body, list) else [body]


class McpSession:
    def __init__(self, url: str, key: str | None, client_name: str = "tests") -> None:
        self.url = url
        self.key = key
        self.client_name = client_name
        self.session_id: str | None = None
        self.next_id = 1

    def headers(self) -> dict[str, str]:
        headers = {"accept": ACCEPT, "content-type": "application/json", "mcp-protocol-version": VERSION}
        if self.key is not None:
            headers["authorization"] = f"Bearer {self.key}"
        if self.session_id is not None:
            headers["mcp-session-id"] = self.session_id
        return headers

    def post(self, payload: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.url, headers=self.headers(), content=json.dumps(payload), timeout=30)

    def initialize(self) -> httpx.Response:
        response = self.post({"jsonrpc": "2.0", "id": self._id(), "method": "initialize", "params": {
            "protocolVersion": VERSION, "capabilities": {},
            "clientInfo": {"name": self.client_name, "version": "1.0"}}})
        if response.status_code == 200:
            self.session_id = response.headers["mcp-session-id"]
            self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return response

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[httpx.Response, dict[str, Any]]:
        request_id = self._id()
        response = self.post({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})
        if response.status_code != 200:
            return response, {}
        answer = next(m for m in messages(response) if m.get("id") == request_id)
        return response, answer

    def call(self, tool: str, arguments: dict[str, Any]) -> tuple[httpx.Response, dict[str, Any]]:
        return self.request("tools/call", {"name": tool, "arguments": arguments})

    def delete(self) -> httpx.Response:
        return httpx.delete(self.url, headers=self.headers(), timeout=30)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1
