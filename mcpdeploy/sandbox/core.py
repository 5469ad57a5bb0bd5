"""The sandbox's plumbing: requests, responses, routing to the emulated services, fault injection, state on disk.

Each emulated service is a `SandboxService` mounted at a path prefix. All state lives in one JSON document
(`state.json` in the sandbox folder) written atomically after every request that changed it, so the sandbox
keeps what was provisioned between runs.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.files.edits import read_current
from mcpdeploy.sandbox.messages import (
    XANO_ECHOES,
    DropConnection,
    Fault,
    SandboxOptions,
    SandboxRequest,
    SandboxResponse,
    SandboxService,
)
from mcpdeploy.sandbox.registry import mount_services

# The message types are re-exported: tests and callers that build a sandbox name them from here.
__all__ = ["XANO_ECHOES", "DropConnection", "Fault", "Sandbox", "SandboxOptions", "SandboxRequest",
           "SandboxResponse", "SandboxService", "compressed"]

STATE_FILE = "state.json"


class Sandbox:
    """All emulated services behind one origin, sharing one state document."""

    def __init__(self, state_dir: Path | None = None, options: SandboxOptions | None = None) -> None:
        self.state_dir = state_dir
        self.options = options if options is not None else SandboxOptions()
        self.lock = threading.RLock()
        self.state: dict[str, Any] = self._load()
        self.faults: list[Fault] = []
        self.requests: list[SandboxRequest] = []  # every request seen, for tests that count calls
        self.url: str | None = None  # where a SandboxServer serves it, once started
        self.services: list[SandboxService] = []
        self._mount_default_services()

    def _mount_default_services(self) -> None:
        self.services.extend(mount_services(self))

    def section(self, name: str, factory: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The part of the state owned by one service, created on first use."""
        if name not in self.state:
            self.state[name] = factory()
        section: dict[str, Any] = self.state[name]
        return section

    def _load(self) -> dict[str, Any]:
        if self.state_dir is None:
            return {}
        path = self.state_dir / STATE_FILE
        raw, _ = read_current(path)  # a folder or an unreadable file: InputFileError naming it
        if raw is None:
            return {}
        try:
            loaded = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or past the parser's limits
            loaded = None
        # Each service reads its own section of the state as a JSON object: anything else would fail later,
        # inside a request, where it can only become a dropped connection.
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise InputFileError(path, "is not a sandbox state this version can read (damaged, or written by hand)",
                                 hint="Run `mcpdeploy sandbox reset` to start the sandbox afresh (it forgets what "
                                      "it held; nothing outside the sandbox is affected).")
        return loaded

    def save(self) -> None:
        if self.state_dir is not None:
            write_atomic(self.state_dir / STATE_FILE, json.dumps(self.state, indent=1, sort_keys=True), mode=0o600)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        return compressed(request, self._dated(self._answer(request)))

    def _dated(self, response: SandboxResponse) -> SandboxResponse:
        """The answer with a `Date` header, as every answer of Xano and Cloudflare carries one (RFC 9110): clients
        measure their clock's skew from it."""
        if any(name.lower() == "date" for name in response.headers):
            return response
        moment = time.time() + self.options.clock_offset_seconds
        return replace(response, headers={**response.headers, "date": formatdate(moment, usegmt=True)})

    def _answer(self, request: SandboxRequest) -> SandboxResponse:
        fault = self._take_fault(request)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
            if fault.drop:
                raise DropConnection(request.path)
            if fault.status is not None:
                headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                return SandboxResponse.json(fault.status, _fault_body(request, fault.status), headers)
        response = self._serve(request)
        if fault is not None and fault.drop_after:
            raise DropConnection(request.path)
        return response

    def _serve(self, request: SandboxRequest) -> SandboxResponse:
        with self.lock:
            self.requests.append(request)
            if request.path.startswith("/__sandbox/"):
                return self._control(request)
            for service in self.services:
                if service.claims(request.path):
                    before = self._contents() if request.method != "GET" else ""
                    response = service.handle(request)
                    if request.method != "GET" and self._contents() != before:
                        self.save()
                    return response
        return SandboxResponse.json(404, {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."})

    def _contents(self) -> str:
        """The state as compared to decide whether to save it. A section that holds nothing but empty lists and
        objects counts as absent: services create their sections on first use, and a read sent as a POST (a
        GraphQL query) must not rewrite the state file just for that."""
        kept = {name: section for name, section in self.state.items()
                if not isinstance(section, dict) or any(value not in ([], {}) for value in section.values())}
        return json.dumps(kept, sort_keys=True)

    def _take_fault(self, request: SandboxRequest) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.applies(request):
                    fault.times -= 1
                    return fault
        return None

    def _control(self, request: SandboxRequest) -> SandboxResponse:
        """`POST /__sandbox/faults` adds a fault to a served sandbox (the tests of a real loopback run use it);
        `POST /__sandbox/options` changes some of its options and answers with all of them."""
        if request.method == "POST" and request.path == "/__sandbox/faults":
            self.faults.append(Fault(**request.json()))
            return SandboxResponse.json(200, {"ok": True})
        if request.method == "POST" and request.path == "/__sandbox/options":
            try:
                self.options = self.options.changed(request.json())
            except (ValueError, TypeError) as exc:
                return SandboxResponse.json(400, {"code": "ERROR_CODE_BAD_REQUEST", "message": str(exc)})
            return SandboxResponse.json(200, asdict(self.options))
        if request.method == "GET" and request.path == "/__sandbox/health":
            return SandboxResponse.json(200, {"ok": True})
        return SandboxResponse.json(404, {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."})

    def writes(self) -> list[SandboxRequest]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]


# What workerd and Cloudflare's edge compress: JSON and plain text (event streams are left alone, they are read
# as they arrive).
_COMPRESSED_TYPES = ("application/json", "text/plain", "text/html")


def compressed(request: SandboxRequest, response: SandboxResponse) -> SandboxResponse:
    """The answer gzip-encoded when the client accepts it, as Workers and the edge in front of them answer, so
    every client of the sandbox goes through its decoding path."""
    accepted = [part.split(";")[0].strip().lower() for part in request.headers.get("accept-encoding", "").split(",")]
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "gzip" not in accepted or not response.body or content_type not in _COMPRESSED_TYPES:
        return response
    if any(name.lower() == "content-encoding" for name in response.headers):
        return response
    headers = {**response.headers, "content-encoding": "gzip", "vary": "accept-encoding"}
    return SandboxResponse(response.status, gzip.compress(response.body, mtime=0), headers)


def _fault_body(request: SandboxRequest, status: int) -> dict[str, Any]:
    if request.path.startswith("/client/v4"):
        return {"success": False, "errors": [{"code": 10000 + status, "message": f"sandbox fault {status}"}],
                "messages": [], "result": None}
    if status == 429:
        return {"code": "ERROR_CODE_TOO_MANY_REQUESTS",
                "message": "Whoa there! Your plan only supports 10 requests per 20 seconds."}
    return {"code": "ERROR_FATAL", "message": f"sandbox fault {status}"}
