"""`mcpdeploy logs`: the Worker's tail events (`wrangler tail --format json`, which prints each event as an
indented JSON object: `{outcome, scriptName, exceptions: [{name, message}], logs: [{level, message: [...]}],
eventTimestamp, event: {request: {url, method, headers}, response: {status}}}`), filtered to errors and refused
keys, printed without any key or token.

Nothing of a request's headers is ever printed, the query string is dropped (keys travel in it too), and every
log message and exception goes through the redactor, which knows the run's secrets and masks bearer tokens and
`key=`/`token:` values it does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from mcpdeploy.redaction import MASK, Redactor

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_NAMED = re.compile(r"(?i)((?:api[_-]?key|access[_-]?token|token|secret|password|authorization|x-api-key)"
                    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+")
_MAX_TEXT = 2_000


@dataclass
class TailLine:
    time: str
    method: str
    path: str
    status: int | None
    outcome: str
    refused: bool
    error: bool
    logs: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "method": self.method, "path": self.path, "status": self.status,
                "outcome": self.outcome, "refused": self.refused, "error": self.error, "logs": self.logs,
                "exceptions": self.exceptions}

    def text(self) -> str:
        head = f"{self.time}  {self.method} {self.path}  {self.status if self.status is not None else '-'}  " \
               f"{self.outcome}"
        lines = [head] + [f"    {line}" for line in self.logs] + [f"    ! {line}" for line in self.exceptions]
        return "\n".join(lines)


def scrub(text: str, redactor: Redactor) -> str:
    """A message fit to print: known secrets, bearer tokens and named key values masked, then cut."""
    text = redactor.redact(text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _NAMED.sub(lambda m: m.group(1) + MASK, text)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def events(chunks: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects in a stream of text (indented or one a line), skipping what is not JSON between them
    (wrangler's own status lines), as they complete."""
    decoder = json.JSONDecoder()
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        while True:
            start = buffer.find("{")
            if start < 0:
                buffer = ""
                break
            try:
                value, end = decoder.raw_decode(buffer, start)
            except ValueError:
                # Not complete yet, or not JSON: wait for more unless a later line starts a new object.
                restart = buffer.find("\n{", start + 1)
                if restart < 0:
                    buffer = buffer[start:]
                    break
                buffer = buffer[restart + 1:]
                continue
            buffer = buffer[end:]
            if isinstance(value, dict):
                yield value


def summarize(event: dict[str, Any], redactor: Redactor) -> TailLine:
    """One tail event as a line; any field missing or of another type reads as unknown, never a crash."""
    inner = _object(event.get("event"))
    request, response = _object(inner.get("request")), _object(inner.get("response"))
    status = response.get("status")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    outcome = str(event.get("outcome") or "unknown")
    logs: list[str] = []
    failing_log = False
    for entry in _items(event.get("logs")):
        if not isinstance(entry, dict):
            continue
        level = str(entry.get("level") or "log")
        failing_log = failing_log or level == "error"
        message = entry.get("message")
        parts = message if isinstance(message, list) else [message]
        logs.append(scrub(f"({level}) " + " ".join(_part(p) for p in parts), redactor))
    exceptions = [scrub(f"{e.get('name', 'Error')}: {_part(e.get('message'))}", redactor)
                  for e in _items(event.get("exceptions")) if isinstance(e, dict)]
    url = request["url"] if isinstance(request.get("url"), str) else ""
    path = scrub(urlsplit(url).path or "/", redactor) if url else "-"
    return TailLine(time=_time(event.get("eventTimestamp")), method=str(request.get("method") or "-")[:10],
                    path=path, status=status, outcome=scrub(outcome, redactor)[:40],
                    refused=status in (401, 403),
                    error=outcome != "ok" or bool(exceptions) or (status or 0) >= 500 or failing_log,
                    logs=logs, exceptions=exceptions)


def wanted(line: TailLine, *, errors: bool, refused: bool) -> bool:
    """Without a filter every event; with --errors and/or --refused, the events of either kind."""
    if not errors and not refused:
        return True
    return (errors and line.error) or (refused and line.refused)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _part(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _time(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "-"
