"""The sandbox's Cloudflare v4 conventions, shared by its queue and Worker handlers: the envelope, failures
with `errors[].code`, JSON bodies, page-based lists, and a clock whose timestamps never repeat.

Codes come from Cloudflare's API documentation and from answers the real API was seen giving (the Queues codes).
Where no code is known (a missing version or consumer), the sandbox uses one marked below as its own: clients
must not branch on those.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from mcpdeploy.sandbox.messages import SandboxRequest, SandboxResponse

NO_ROUTE = 7003
UNAUTHORIZED_RESOURCE = 9109
AUTHENTICATION = 10000
NOT_A_USER_TOKEN = 1000
WORKER_NOT_FOUND = 10007
SECRET_NOT_FOUND = 10056
QUEUE_ID_MALFORMED = 10004
BODY_INVALID = 10207
BODY_MALFORMED = 10208
SETTINGS_NOT_DEPLOYED = 10214
LATEST_NOT_DEPLOYED = 10215
SECRETS_CHANGED = 10220
NO_VERSIONS = 10222
QUEUE_NOT_FOUND = 11000
QUEUE_NAME_INVALID = 11003
CONSUMER_EXISTS = 11004
QUEUE_NAME_TAKEN = 11009
CONSUMER_SETTINGS_INVALID = 100127
QUEUE_SETTINGS_INVALID = 100128
# The sandbox's own code: the real one is unknown.
SANDBOX_NOT_FOUND = 10404


class CloudflareFailure(Exception):
    """Raised by a handler; rendered as a `success: false` envelope."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> SandboxResponse:
        return SandboxResponse.json(self.status, {
            "success": False, "errors": [{"code": self.code, "message": self.message}], "messages": [], "result": None,
        })


def ok(result: Any, result_info: dict[str, Any] | None = None) -> SandboxResponse:
    payload: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        payload["result_info"] = result_info
    return SandboxResponse.json(200, payload)


def json_body(request: SandboxRequest, *, media: str = "application/json") -> dict[str, Any]:
    """The JSON object a request carries as `media`. A JSON body sent as text/plain is read too: wrangler sends its
    queue-consumer bodies without a Content-Type, which fetch() then labels text/plain, and the API accepts them."""
    accepted = {media, "text/plain"} if media == "application/json" else {media}
    if request.content_type not in accepted:
        raise CloudflareFailure(400, BODY_INVALID, f"expected a {media} body, got {request.content_type or 'none'}")
    try:
        body = request.json()
    except ValueError as exc:
        raise CloudflareFailure(400, BODY_MALFORMED, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise CloudflareFailure(400, BODY_INVALID, "request body must be a JSON object")
    return body


def query_int(request: SandboxRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise CloudflareFailure(400, BODY_INVALID, f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise CloudflareFailure(400, BODY_INVALID, f"{name} must be {low}..{high}, got {value}")
    return value


def page_of(items: list[Any], request: SandboxRequest, *, default_per_page: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` and its `result_info`, as the page-based v4 lists answer."""
    page = query_int(request, "page", 1, 1, 1_000_000)
    per_page = query_int(request, "per_page", default_per_page, 1, 100)
    chunk = items[(page - 1) * per_page: page * per_page]
    total = len(items)
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk), "total_count": total,
                   "total_pages": max(1, -(-total // per_page))}


def is_true(request: SandboxRequest, name: str) -> bool:
    return request.query.get(name, "").lower() == "true"


def timestamp(section: dict[str, Any]) -> str:
    """Now, strictly after the previous timestamp: callers sort deployments by `created_on`, as wrangler does."""
    now = datetime.now(timezone.utc)
    last = section.get("clock")
    if last:
        previous = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
        if now <= previous:
            now = previous + timedelta(microseconds=1)
    text = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    section["clock"] = text
    return text


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
