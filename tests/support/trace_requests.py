"""Read the requests back out of a `--trace` file (JSON lines written by `TraceWriter`), so a test can check
what a real command sent against the OpenAPI documents, exactly as it went out minus the redacted secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.openapi_requests import RecordedRequest

MASK = "***"


def requests_from_trace(path: Path, *, url_contains: str = "") -> list[RecordedRequest]:
    """Every traced request whose URL contains `url_contains`, retries included."""
    found: list[RecordedRequest] = []
    for line in path.read_text("utf-8").splitlines():
        entry = json.loads(line)
        if url_contains in entry["url"]:
            found.append(_request(entry))
    return found


def _request(entry: dict[str, Any]) -> RecordedRequest:
    headers = dict(entry.get("request_headers") or {})
    for name, value in headers.items():
        # The trace masks the whole Authorization value; keep its scheme so the security check still applies.
        if name.lower() == "authorization" and value == MASK:
            headers[name] = f"Bearer {MASK}"
    body = entry.get("request_body")
    if body in (None, ""):
        raw = b""
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = json.dumps(body).encode("utf-8")
    return RecordedRequest(entry["method"], entry["url"], headers, raw)
