"""Misbehaving HTTP servers on 127.0.0.1, for the tests of bounded waits and capped answers (and the benchmark).

Each serves from a daemon thread on its own port and stops when its `with` block ends; each counts the
connections it accepted, so a test can tell how many attempts a client made without timing anything.
"""

from __future__ import annotations

import gzip
import socket
import threading
from types import TracebackType


class _Server:
    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> _Server:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for conn in self._open:
            conn.close()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _read_request(self, conn: socket.socket) -> bool:
        conn.settimeout(0.05)
        data = b""
        while b"\r\n\r\n" not in data and not self._stop.is_set():
            try:
                piece = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not piece:
                return False
            data += piece
        return not self._stop.is_set()


class Silent(_Server):
    """Accepts every connection, reads the request, and never answers."""

    def _serve(self, conn: socket.socket) -> None:
        self._read_request(conn)
        self._stop.wait()


class Drip(_Server):
    """Answers 200 with a long JSON body, one byte every `interval` seconds: every read succeeds, none finishes."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__()
        self.interval = interval

    def _serve(self, conn: socket.socket) -> None:
        if not self._read_request(conn):
            return
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
            while not self._stop.wait(self.interval):
                conn.sendall(b" ")
        except OSError:
            return


class Fixed(_Server):
    """Answers every request with the same status, headers and body (sent as fast as the client reads)."""

    def __init__(self, body: bytes, *, status: int = 200, content_type: str = "application/json",
                 gzipped: bool = False) -> None:
        super().__init__()
        self.body = gzip.compress(body, compresslevel=9, mtime=0) if gzipped else body
        head = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(self.body)}\r\n"
                + ("Content-Encoding: gzip\r\n" if gzipped else "") + "Connection: close\r\n\r\n")
        self.head = head.encode()

    def _serve(self, conn: socket.socket) -> None:
        if not self._read_request(conn):
            return
        conn.settimeout(5)
        try:
            conn.sendall(self.head + self.body)
            # Closing with the request body unread would reset the connection under the client's feet.
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(0.5)
            while conn.recv(65536):
                pass
        except OSError:
            return
        finally:
            conn.close()


def refused_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

