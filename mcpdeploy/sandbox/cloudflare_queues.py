"""The sandbox's Cloudflare Queues: list by name with paging, create, get, update, delete, and Worker consumers
(one per queue: a second gets 11004). Shapes and limits from Cloudflare's Queues API documentation; error codes
as the real API answered them: a duplicate name 11009 (HTTP 409), an unknown queue 11000 (404), a malformed id
10004 (404), an invalid name 11003.

`GET …/queues?name=` is undocumented, so no client should take it for an exact filter: the sandbox returns every
queue whose name contains the text, which catches a client that trusts the filter instead of comparing names.

A Worker consumer is `{type, script_name, dead_letter_queue, settings}`: the dead-letter queue is named (not
given by id) at the top level, and `settings` holds batch_size, max_retries, max_wait_time_ms (ms),
max_concurrency (null: the platform's maximum) and retry_delay (s).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from mcpdeploy.sandbox.cloudflare_envelope import (
    BODY_INVALID,
    CONSUMER_EXISTS,
    CONSUMER_SETTINGS_INVALID,
    NO_ROUTE,
    QUEUE_ID_MALFORMED,
    QUEUE_NAME_INVALID,
    QUEUE_NAME_TAKEN,
    QUEUE_NOT_FOUND,
    QUEUE_SETTINGS_INVALID,
    SANDBOX_NOT_FOUND,
    WORKER_NOT_FOUND,
    CloudflareFailure,
    json_body,
    ok,
    page_of,
    timestamp,
)
from mcpdeploy.sandbox.messages import SandboxRequest, SandboxResponse

QUEUE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
QUEUE_ID = re.compile(r"^[0-9a-f]{32}$")
QUEUES_PER_PAGE = 20
DEFAULT_QUEUE_SETTINGS = {"delivery_delay": 0, "delivery_paused": False, "message_retention_period": 345600}
# (low, high) per setting.
QUEUE_LIMITS = {"delivery_delay": (0, 86400), "message_retention_period": (60, 1209600)}
CONSUMER_LIMITS = {"batch_size": (1, 100), "max_wait_time_ms": (0, 60000), "max_retries": (0, 100),
                   "max_concurrency": (1, 250), "retry_delay": (0, 86400), "visibility_timeout_ms": (0, 43200000)}


def handle_queues(section: dict[str, Any], request: SandboxRequest, rest: list[str]) -> SandboxResponse:
    """`rest` is the path after `/accounts/{id}/queues`, split on `/`."""
    queues: list[dict[str, Any]] = section.setdefault("queues", [])
    if not rest:
        if request.method == "GET":
            return _list(queues, request)
        if request.method == "POST":
            return _create(section, queues, request)
    elif len(rest) == 1:
        queue = _queue(queues, rest[0])
        if request.method == "GET":
            return ok(_public(queue))
        if request.method in ("PUT", "PATCH"):
            return _update(section, queues, queue, request)
        if request.method == "DELETE":
            queues.remove(queue)
            return ok(None)
    elif rest[1] == "consumers" and len(rest) in (2, 3):
        return _consumers(section, _queue(queues, rest[0]), request, rest[2] if len(rest) == 3 else None)
    raise CloudflareFailure(405, NO_ROUTE, f"No route for {request.method} on this URI")


def _list(queues: list[dict[str, Any]], request: SandboxRequest) -> SandboxResponse:
    name = request.query.get("name")
    matching = [q for q in queues if name is None or name in q["queue_name"]]
    chunk, info = page_of(matching, request, default_per_page=QUEUES_PER_PAGE)
    return ok([_public(q) for q in chunk], info)


def _create(section: dict[str, Any], queues: list[dict[str, Any]], request: SandboxRequest) -> SandboxResponse:
    body = json_body(request)
    name = body.get("queue_name")
    if not isinstance(name, str) or not QUEUE_NAME.match(name):
        raise CloudflareFailure(400, QUEUE_NAME_INVALID, f"Queue name '{name}' is invalid. Must match "
                                                         f"{QUEUE_NAME.pattern}")
    _refuse_taken(queues, name)
    now = timestamp(section)
    queue = {"queue_id": uuid.uuid4().hex, "queue_name": name, "created_on": now, "modified_on": now,
             "settings": {**DEFAULT_QUEUE_SETTINGS, **_queue_settings(body.get("settings"))},
             "producers": [], "consumers": []}
    queues.append(queue)
    return ok(_public(queue))


def _refuse_taken(queues: list[dict[str, Any]], name: str) -> None:
    if any(q["queue_name"] == name for q in queues):
        raise CloudflareFailure(409, QUEUE_NAME_TAKEN, f"A queue with name '{name}' already exists")


def _update(section: dict[str, Any], queues: list[dict[str, Any]], queue: dict[str, Any],
            request: SandboxRequest) -> SandboxResponse:
    body = json_body(request)
    settings = _queue_settings(body.get("settings"))
    # PUT replaces the configuration; PATCH merges into it.
    queue["settings"] = {**(DEFAULT_QUEUE_SETTINGS if request.method == "PUT" else queue["settings"]), **settings}
    if "queue_name" in body:
        name = body["queue_name"]
        if not isinstance(name, str) or not QUEUE_NAME.match(name):
            raise CloudflareFailure(400, QUEUE_NAME_INVALID, f"Queue name '{name}' is invalid")
        _refuse_taken([q for q in queues if q is not queue], name)
        queue["queue_name"] = name
    queue["modified_on"] = timestamp(section)
    return ok(_public(queue))


def _queue_settings(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CloudflareFailure(400, QUEUE_SETTINGS_INVALID, "settings must be an object")
    for key, (low, high) in QUEUE_LIMITS.items():
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            raise CloudflareFailure(400, QUEUE_SETTINGS_INVALID, f"Invalid queue settings: {key} must be {low}..{high}")
    return dict(raw)


def _queue(queues: list[dict[str, Any]], queue_id: str) -> dict[str, Any]:
    if not QUEUE_ID.match(queue_id):
        raise CloudflareFailure(404, QUEUE_ID_MALFORMED, f"Queue ID '{queue_id}' is malformed (32 hex characters, "
                                                         "not the queue name)")
    for queue in queues:
        if queue["queue_id"] == queue_id:
            return queue
    raise CloudflareFailure(404, QUEUE_NOT_FOUND, f"Queue {queue_id} not found")


def _public(queue: dict[str, Any]) -> dict[str, Any]:
    return {**queue, "consumers": [_public_consumer(c) for c in queue["consumers"]],
            "producers_total_count": len(queue["producers"]), "consumers_total_count": len(queue["consumers"])}


def _public_consumer(consumer: dict[str, Any]) -> dict[str, Any]:
    """A consumer as answered: a Worker consumer names its Worker as `script` too, the field the current API
    types give it and the one wrangler deploy matches (with `service`) to update the consumer instead of adding a
    second one; the request's `script_name` is kept alongside, as the 2024 spec answers it."""
    if consumer.get("type") != "worker":
        return dict(consumer)
    return {**consumer, "script": consumer.get("script_name")}


def _consumers(section: dict[str, Any], queue: dict[str, Any], request: SandboxRequest,
               consumer_id: str | None) -> SandboxResponse:
    consumers: list[dict[str, Any]] = queue["consumers"]
    if consumer_id is None:
        if request.method == "GET":
            return ok([_public_consumer(c) for c in consumers])
        if request.method == "POST":
            fields = _consumer_fields(section, request)
            if fields["type"] == "worker" and any(c["type"] == "worker" for c in consumers):
                raise CloudflareFailure(400, CONSUMER_EXISTS, "workers.api.error.consumer_exists")
            created = {"consumer_id": uuid.uuid4().hex, "queue_name": queue["queue_name"],
                       "created_on": timestamp(section), **fields}
            consumers.append(created)
            return ok(_public_consumer(created))
    else:
        consumer = next((c for c in consumers if c["consumer_id"] == consumer_id), None)
        if consumer is None:
            raise CloudflareFailure(404, SANDBOX_NOT_FOUND, f"Consumer {consumer_id} not found")
        if request.method == "GET":
            return ok(_public_consumer(consumer))
        if request.method == "PUT":
            # PUT updates the consumer in place ("updates the consumer or creates one").
            consumer.update(_consumer_fields(section, request))
            return ok(_public_consumer(consumer))
        if request.method == "DELETE":
            consumers.remove(consumer)
            return ok(None)
    raise CloudflareFailure(405, NO_ROUTE, f"No route for {request.method} on this URI")


def _consumer_fields(section: dict[str, Any], request: SandboxRequest) -> dict[str, Any]:
    body = json_body(request)
    kind = body.get("type")
    if kind not in ("worker", "http_pull"):
        raise CloudflareFailure(400, BODY_INVALID, "consumer type must be 'worker' or 'http_pull'")
    script = body.get("script_name")
    if kind == "worker":
        if not isinstance(script, str) or not script:
            raise CloudflareFailure(400, BODY_INVALID, "a worker consumer needs script_name")
        if script not in section.get("scripts", {}):
            raise CloudflareFailure(404, WORKER_NOT_FOUND, f"This Worker ({script}) does not exist on your account")
    settings = body.get("settings") or {}
    if not isinstance(settings, dict):
        raise CloudflareFailure(400, CONSUMER_SETTINGS_INVALID, "settings must be an object")
    if "dead_letter_queue" in settings:
        raise CloudflareFailure(400, BODY_INVALID, "dead_letter_queue belongs at the top level, not in settings")
    dead_letter = body.get("dead_letter_queue") or ""
    if not isinstance(dead_letter, str) or (dead_letter and not QUEUE_NAME.match(dead_letter)):
        raise CloudflareFailure(400, BODY_INVALID, "dead_letter_queue is the name of a queue")
    for key, (low, high) in CONSUMER_LIMITS.items():
        value = settings.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise CloudflareFailure(400, CONSUMER_SETTINGS_INVALID,
                                    f"Invalid consumer settings: {key} must be {low}..{high}, got {value!r}")
    fields: dict[str, Any] = {"type": kind, "settings": dict(settings), "dead_letter_queue": dead_letter}
    if kind == "worker":
        fields["script_name"] = script
    return fields
