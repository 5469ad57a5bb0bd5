"""Serve a sandbox over HTTP on loopback, in a background thread (`--sandbox`) or in the foreground
(`mcpdeploy sandbox serve`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from mcpdeploy.sandbox.core import DropConnection, Sandbox, SandboxRequest


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True

    def _dispatch(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        url = f"http://{self.headers.get('host', 'localhost')}{self.path}"
        request = SandboxRequest.from_url(self.command, url, dict(self.headers.items()), body)
        try:
            response = self.server.sandbox.handle(request)
        except DropConnection:
            self.close_connection = True
            self.connection.close()
            return
        # The sandbox dates its own answers (its clock can be shifted): the handler's Date header would be a second.
        self.log_request(response.status)
        self.send_response_only(response.status)
        self.send_header("Server", self.version_string())
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox
    log: Callable[[str], None] | None


class SandboxServer:
    """`with SandboxServer(sandbox) as server: server.url` serves until the block ends."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0,
                 log: Callable[[str], None] | None = None) -> None:
        self.sandbox = sandbox
        self._server = _Server((host, port), _Handler)
        self._server.sandbox = sandbox
        sandbox.url = self.url
        self._server.log = log
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        # A short poll interval: shutdown waits for the loop's next poll, which would add 0.5 s to every
        # command run with --sandbox.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="mcpdeploy-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
