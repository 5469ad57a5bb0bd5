"""The sandbox as an httpx transport, for tests and in-process use: no socket, same behaviour as served."""

from __future__ import annotations

import httpx

from mcpdeploy.sandbox.core import DropConnection, Sandbox, SandboxRequest


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        sreq = SandboxRequest.from_url(request.method, str(request.url), dict(request.headers), body)
        try:
            sresp = self.sandbox.handle(sreq)
        except DropConnection as exc:
            raise httpx.RemoteProtocolError("sandbox dropped the connection", request=request) from exc
        return httpx.Response(sresp.status, headers=sresp.headers, content=sresp.body, request=request)
