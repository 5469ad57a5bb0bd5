"""The sandbox's queue runtime: messages pushed to a queue wait in its backlog until its Worker consumer takes
them, as Cloudflare Queues deliver them.

Producers: the sandbox's Worker (its `/mcp`, one usage event per `tools/call`) and the REST API's
`POST …/queues/{id}/messages` (`{"body", "content_type": "json"|"text"}`) and `…/messages/batch`
(`{"messages": [...]}`), which answer the queue's metrics as the API does. `GET …/queues/{id}/metrics` answers
`{backlog_count, backlog_bytes, oldest_message_timestamp_ms}`.

The consumer is the sandbox's stand-in for the Worker's `queue()` handler: each message is written to Xano with
`POST /usage_logs` of the API group that serves it, acked when that answers 2xx and retried otherwise; past
`max_retries` (default 3) it goes to the consumer's dead-letter queue, or is dropped. Nothing is delivered while
the queue's `delivery_paused` setting is true (`wrangler queues pause-delivery`) or while it has no Worker
consumer: that is how a stalled consumer is simulated. Delivery catches up whenever the queue is touched (a push,
a metrics or analytics read, a request to the Worker), which stands in for Cloudflare's continuous delivery.

Every operation is recorded for the analytics datasets (`queueMessageOperationsAdaptiveGroups`:
WriteMessage, ReadMessage, DeleteMessage with outcome success|dlq|fail) and the backlog is sampled after each
change (`queueBacklogAdaptiveGroups`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from mcpdeploy.sandbox.analytics_store import append, now_ms
from mcpdeploy.sandbox.cloudflare_envelope import (
    BODY_INVALID,
    NO_ROUTE,
    QUEUE_ID_MALFORMED,
    QUEUE_NOT_FOUND,
    CloudflareFailure,
    json_body,
    ok,
)
from mcpdeploy.sandbox.messages import DropConnection, SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.xano_state import xano_state

SECTION = "queue_runtime"  # {"<queue_id>": [{"id", "body", "content_type", "bytes", "sent_ms", "attempts"}]}
DEFAULT_MAX_RETRIES = 3
MAX_MESSAGES_PER_BATCH_PUSH = 100
USAGE_ROUTE = "usage_logs"


def backlog(sandbox: SandboxHost, queue_id: str) -> list[dict[str, Any]]:
    section = sandbox.section(SECTION, dict)
    waiting: list[dict[str, Any]] = section.setdefault(queue_id, [])
    return waiting


def queues(sandbox: SandboxHost) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sandbox.state.get("cloudflare", {}).get("queues", [])
    return found


def metrics(sandbox: SandboxHost, queue_id: str) -> dict[str, Any]:
    waiting = backlog(sandbox, queue_id)
    return {"backlog_count": len(waiting), "backlog_bytes": sum(m["bytes"] for m in waiting),
            "oldest_message_timestamp_ms": min((m["sent_ms"] for m in waiting), default=0)}


def push(sandbox: SandboxHost, queue: dict[str, Any], body: Any, content_type: str = "json") -> None:
    """One message onto the queue's backlog (a producer's `send`), then delivery as far as it can go."""
    with sandbox.lock:
        encoded = json.dumps(body) if content_type == "json" else str(body)
        message = {"id": uuid.uuid4().hex, "body": body, "content_type": content_type,
                   "bytes": len(encoded.encode("utf-8")), "sent_ms": now_ms(), "attempts": 0}
        backlog(sandbox, queue["queue_id"]).append(message)
        _operation(sandbox, queue["queue_id"], "WriteMessage", message)
        _sample(sandbox, queue["queue_id"])
        deliver(sandbox, queue)


def catch_up(sandbox: SandboxHost) -> None:
    """Deliver whatever every queue can deliver now."""
    with sandbox.lock:
        for queue in list(queues(sandbox)):
            deliver(sandbox, queue)


def deliver(sandbox: SandboxHost, queue: dict[str, Any]) -> None:
    """Hand waiting messages to the queue's Worker consumer, one batch at a time, each message once per call."""
    consumer = next((c for c in queue.get("consumers", []) if c.get("type") == "worker"), None)
    if consumer is None or queue.get("settings", {}).get("delivery_paused"):
        return
    settings = consumer.get("settings") or {}
    batch_size = int(settings.get("batch_size") or 10)
    max_retries = settings.get("max_retries")
    max_retries = DEFAULT_MAX_RETRIES if max_retries is None else int(max_retries)
    waiting = backlog(sandbox, queue["queue_id"])
    pending = list(waiting)
    while pending:
        batch, pending = pending[:batch_size], pending[batch_size:]
        for message in batch:
            message["attempts"] += 1
            _operation(sandbox, queue["queue_id"], "ReadMessage", message)
            if _store_usage(sandbox, message["body"]):
                outcome = "success"
            elif message["attempts"] > max_retries:
                outcome = _dead_letter(sandbox, consumer, message)
            else:
                continue  # retried on a later delivery
            waiting.remove(message)
            _operation(sandbox, queue["queue_id"], "DeleteMessage", message, outcome)
        _sample(sandbox, queue["queue_id"])


def _dead_letter(sandbox: SandboxHost, consumer: dict[str, Any], message: dict[str, Any]) -> str:
    name = consumer.get("dead_letter_queue") or ""
    target = next((q for q in queues(sandbox) if q["queue_name"] == name), None) if name else None
    if target is None:
        return "fail"
    moved = {**message, "id": uuid.uuid4().hex, "attempts": 0, "sent_ms": now_ms()}
    backlog(sandbox, target["queue_id"]).append(moved)
    _operation(sandbox, target["queue_id"], "WriteMessage", moved)
    _sample(sandbox, target["queue_id"])
    return "dlq"


def _store_usage(sandbox: SandboxHost, body: Any) -> bool:
    """What the Worker's consumer does with one message: `POST /usage_logs` on the Xano API group serving it."""
    base = runtime_base_path(sandbox, "POST", USAGE_ROUTE)
    if base is None or not isinstance(body, dict):
        return False
    try:
        answer = sandbox.handle(SandboxRequest(method="POST", path=f"{base}/{USAGE_ROUTE}", query={},
                                               headers={"content-type": "application/json",
                                                        "accept": "application/json"},
                                               body=json.dumps(body).encode("utf-8")))
    except DropConnection:  # an injected fault: the write's answer never came back, so it is retried
        return False
    return 200 <= answer.status < 300


def runtime_base_path(sandbox: SandboxHost, verb: str, route: str) -> str | None:
    """`/api:<canonical>` of the API group that has an endpoint `verb route`, or None when none was provisioned."""
    state = xano_state(sandbox)
    for api in sorted(state["apis"].values(), key=lambda a: a["id"]):
        if api["name"] == route and api["verb"] == verb:
            group = state["apigroups"].get(str(api["apigroup_id"]))
            if group is not None:
                return f"/api:{group['canonical']}"
    return None


def _operation(sandbox: SandboxHost, queue_id: str, action: str, message: dict[str, Any],
               outcome: str | None = None) -> None:
    now = now_ms()
    append(sandbox, "queue_operations", {
        "t": now, "queue_id": queue_id, "action": action,
        "consumer": "worker" if action != "WriteMessage" else None, "outcome": outcome,
        "bytes": message["bytes"], "lag_ms": now - message["sent_ms"] if action != "WriteMessage" else 0,
        "retries": max(0, message["attempts"] - 1)})


def _sample(sandbox: SandboxHost, queue_id: str) -> None:
    current = metrics(sandbox, queue_id)
    append(sandbox, "backlog_samples", {"t": now_ms(), "queue_id": queue_id,
                                        "messages": current["backlog_count"], "bytes": current["backlog_bytes"]})


def handle_queue_runtime(sandbox: SandboxHost, request: SandboxRequest, queue_id: str,
                         rest: list[str]) -> SandboxResponse:
    """`…/queues/{id}/messages`, `…/messages/batch` and `…/metrics` (`rest` is what follows the id)."""
    queue = next((q for q in queues(sandbox) if q["queue_id"] == queue_id), None)
    if queue is None:
        if len(queue_id) != 32:
            raise CloudflareFailure(404, QUEUE_ID_MALFORMED, f"Queue ID '{queue_id}' is malformed")
        raise CloudflareFailure(404, QUEUE_NOT_FOUND, f"Queue {queue_id} not found")
    if rest == ["metrics"] and request.method == "GET":
        catch_up(sandbox)
        return ok(metrics(sandbox, queue_id))
    if rest == ["messages"] and request.method == "POST":
        _push_checked(sandbox, queue, json_body(request))
        return ok({"metadata": {"metrics": metrics(sandbox, queue_id)}})
    if rest == ["messages", "batch"] and request.method == "POST":
        items = json_body(request).get("messages")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_MESSAGES_PER_BATCH_PUSH:
            raise CloudflareFailure(400, BODY_INVALID, f"messages must be a list of 1..{MAX_MESSAGES_PER_BATCH_PUSH}")
        for item in items:
            _push_checked(sandbox, queue, item if isinstance(item, dict) else {})
        return ok({"metadata": {"metrics": metrics(sandbox, queue_id)}})
    raise CloudflareFailure(405, NO_ROUTE, f"No route for {request.method} on this URI")


def _push_checked(sandbox: SandboxHost, queue: dict[str, Any], item: dict[str, Any]) -> None:
    content_type = item.get("content_type", "json")
    if content_type not in ("json", "text") or "body" not in item:
        raise CloudflareFailure(400, BODY_INVALID, "a message is {body, content_type: json|text}")
    if content_type == "text" and not isinstance(item["body"], str):
        raise CloudflareFailure(400, BODY_INVALID, "a text message's body is a string")
    push(sandbox, queue, item["body"], content_type)
