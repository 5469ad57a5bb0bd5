"""What the sandbox's `/mcp` does besides answering, as the reference Worker does: it records each session in
the Xano table `mcp_sessions` (`POST /mcp_sessions` when a session starts, `PUT` on activity and on close), sends
one usage event per `tools/call` to the usage queue, and leaves an invocation record and a tail event behind for
the analytics answers and `mcpdeploy logs`.

The Xano calls go through the sandbox's own runtime endpoints, in-process, exactly as the Worker calls them over
HTTP: with nothing provisioned they answer 404, and the Worker logs a warning instead of failing the request.
The queue is the one whose Worker consumer is this Worker, else the one named `usage-queue`, else the only one.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.analytics_store import append, now_ms
from mcpdeploy.sandbox.messages import DropConnection, SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.queue_delivery import catch_up, push, queues, runtime_base_path
from mcpdeploy.sandbox.xano_state import REMOTE_IP

DEFAULT_QUEUE = "usage-queue"
SANDBOX_MODEL = "sandbox-model-1"
COST_PER_CALL = 0.0002  # what the sandbox's tools "cost", so cost totals have something to add up
_SECRET_HEADERS = ("authorization", "cookie", "mcp-session-id")


@dataclass
class Invocation:
    logs: list[dict[str, Any]] = field(default_factory=list)
    subrequests: int = 0
    response: SandboxResponse | None = None

    def log(self, level: str, *message: Any) -> None:
        self.logs.append({"message": list(message), "level": level, "timestamp": now_ms()})


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("sandbox_invocation", default=None)


def worker_script(sandbox: SandboxHost) -> str:
    """The name the sandbox's Worker runs under: the most recently deployed script, else the sandbox's default."""
    scripts = sandbox.state.get("cloudflare", {}).get("scripts", {})
    deployed = [(w["deployments"][-1]["created_on"], name) for name, w in scripts.items() if w.get("deployments")]
    return max(deployed)[1] if deployed else credentials.WORKER_NAME


@contextlib.contextmanager
def invocation(sandbox: SandboxHost, request: SandboxRequest) -> Iterator[Invocation]:
    """Measure one request to the Worker and record it (the caller sets `response` through `finish`)."""
    current = Invocation()
    token = _current.set(current)
    cpu, wall, started = time.process_time(), time.perf_counter(), now_ms()
    try:
        yield current
    finally:
        _current.reset(token)
    response = current.response
    status = response.status if response is not None else 500
    if status in (401, 403):
        current.log("warn", f"auth: API key refused ({status})" if request.headers.get("authorization")
                    else f"auth: no API key ({status})")
    script = worker_script(sandbox)
    append(sandbox, "invocations", {
        "t": started, "script": script, "status": "success" if response is not None else "scriptThrewException",
        "errors": 0 if response is not None else 1, "subrequests": current.subrequests,
        "cpu_us": max(1, int((time.process_time() - cpu) * 1_000_000)),
        "wall_us": max(1, int((time.perf_counter() - wall) * 1_000_000))})
    append(sandbox, "tail", {
        "outcome": "ok" if response is not None else "exception", "scriptName": script,
        "diagnosticsChannelEvents": [], "exceptions": [], "logs": current.logs, "eventTimestamp": started,
        "event": {"request": {"url": f"{sandbox.url or 'http://127.0.0.1'}{request.path}",
                              "method": request.method, "headers": _tail_headers(request.headers), "cf": {}},
                  "response": {"status": status}}})
    catch_up(sandbox)


def finish(current: Invocation, response: SandboxResponse) -> SandboxResponse:
    current.response = response
    return response


def _tail_headers(headers: dict[str, str]) -> dict[str, str]:
    # Cloudflare's tail shows request headers; the sandbox keeps none of the secret ones, not even masked.
    return {k: v for k, v in headers.items() if k not in _SECRET_HEADERS}


def _log(level: str, *message: Any) -> None:
    current = _current.get()
    if current is not None:
        current.log(level, *message)


def _xano(sandbox: SandboxHost, method: str, route: str, path: str, body: dict[str, Any]) -> int | None:
    """Call the provisioned Xano endpoint `method route` (path parameters filled in as `path`), in-process."""
    base = runtime_base_path(sandbox, method, route)
    if base is None:
        _log("warn", f"xano: no endpoint {method} /{route} (run `mcpdeploy provision`)")
        return None
    current = _current.get()
    if current is not None:
        current.subrequests += 1
    try:
        answer = sandbox.handle(SandboxRequest(method=method, path=f"{base}/{path}", query={},
                                               headers={"content-type": "application/json",
                                                        "accept": "application/json"},
                                               body=json.dumps(body).encode("utf-8")))
    except DropConnection:
        answer = SandboxResponse(502)
    if answer.status >= 300:
        _log("error", f"xano: {method} /{route} answered {answer.status}")
    return answer.status


def session_started(sandbox: SandboxHost, session_id: str, user: dict[str, Any], client_info: Any) -> None:
    _xano(sandbox, "POST", "mcp_sessions", "mcp_sessions", {
        "session_id": session_id, "user_id": _user_id(user), "status": "active",
        "client_info": client_info if isinstance(client_info, dict) else {}})


def session_touched(sandbox: SandboxHost, session_id: str, status: str = "active") -> None:
    _xano(sandbox, "PUT", "mcp_sessions/{session_id}", f"mcp_sessions/{session_id}",
          {"status": status, "last_active": now_ms()})


def tool_called(sandbox: SandboxHost, session_id: str, user: dict[str, Any], tool: str, arguments: Any,
                result: dict[str, Any], started_ms: int) -> None:
    """One usage event to the usage queue, as the Worker sends it with `ctx.waitUntil`."""
    queue = usage_queue(sandbox)
    if queue is None:
        _log("error", "usage: no queue to send the usage event to (USAGE_QUEUE is not bound)")
        return
    error = _text(result) if result.get("isError") else None
    push(sandbox, queue, {
        "session_id": session_id, "user_id": _user_id(user), "tool_name": tool,
        "params": arguments if isinstance(arguments, dict) else {}, "result": {"content": result.get("content")},
        "error": error, "duration": max(0, now_ms() - started_ms), "timestamp": started_ms,
        "ip_address": REMOTE_IP, "ai_model": SANDBOX_MODEL, "cost": 0 if error else COST_PER_CALL})
    session_touched(sandbox, session_id)


def usage_queue(sandbox: SandboxHost) -> dict[str, Any] | None:
    script = worker_script(sandbox)
    every = queues(sandbox)
    consumed = [q for q in every if any(c.get("script_name") == script for c in q.get("consumers", []))]
    named = [q for q in every if q["queue_name"] == DEFAULT_QUEUE]
    for candidates in (consumed, named, every if len(every) == 1 else []):
        if candidates:
            return candidates[0]
    return None


def _user_id(user: dict[str, Any]) -> str:
    return "anonymous" if user.get("id") is None else str(user["id"])


def _text(result: dict[str, Any]) -> str:
    parts = [c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict)]
    return " ".join(str(p) for p in parts)[:500]
