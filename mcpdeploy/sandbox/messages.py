"""What passes between the sandbox and its emulated services: requests, responses, faults, options, and the
`SandboxHost` a service is mounted on. Services import this module, never the `Sandbox` that discovers and mounts
them, so the sandbox's import graph has no circle."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass
class SandboxRequest:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @classmethod
    def from_url(cls, method: str, url: str, headers: dict[str, str], body: bytes) -> SandboxRequest:
        parts = urlsplit(url)
        return cls(
            method=method.upper(),
            path=unquote(parts.path) or "/",
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8")

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


@dataclass
class SandboxResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> SandboxResponse:
        return cls(status, json.dumps(payload).encode("utf-8"), {"content-type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> SandboxResponse:
        return cls(status, text.encode("utf-8"), {"content-type": content_type})


class DropConnection(Exception):
    """Raised by a fault: the transport closes the connection without an answer."""


class SandboxService(Protocol):
    prefix: str  # e.g. "/api:meta"; a service may also claim paths through `claims`

    def claims(self, path: str) -> bool: ...

    def handle(self, request: SandboxRequest) -> SandboxResponse: ...


@dataclass
class Fault:
    """Answer matching requests with `status` (and Retry-After), or drop the connection, or add latency.

    `drop_after` carries the request out, then drops the connection before the answer: a write whose answer is
    lost. `times` counts down; a fault with times=0 is spent. `match` is a regex searched in "METHOD /path".
    """

    match: str = ".*"
    status: int | None = None
    retry_after: float | None = None
    drop: bool = False
    drop_after: bool = False
    latency: float = 0.0
    times: int = 1

    def applies(self, request: SandboxRequest) -> bool:
        return self.times > 0 and re.search(self.match, f"{request.method} {request.path}") is not None


XANO_ECHOES = ("recorded", "verbatim")
MAX_CLOCK_OFFSET = 10 * 365 * 86_400  # seconds; anything larger is a typo, not a clock


@dataclass
class SandboxOptions:
    """Where the real services were seen to behave one way or another, or are not known, which way to emulate.

    `xano_echo`: "recorded" answers `include_xanoscript=true` with the text regenerated from the stored model, as
    Xano does (comments for descriptions, `api_group` first, its own layout); "verbatim" with the text as sent.
    `schema_validators`: whether `GET …/table/{id}/schema` carries each column's `validators` (no capture says it
    does). `guid_on_save`: whether a saved table or API echoes a `guid` member, as newer Xano versions do.
    `clock_offset_seconds`: how far the `Date` header of every answer is from this machine's clock, to show what a
    client does when its clock and the service's disagree (a skewed laptop, a VM back from sleep).
    """

    xano_echo: str = "recorded"
    schema_validators: bool = True
    guid_on_save: bool = False
    clock_offset_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.xano_echo not in XANO_ECHOES:
            raise ValueError(f"xano_echo must be one of {', '.join(XANO_ECHOES)}, not {self.xano_echo!r}")
        for name in ("schema_validators", "guid_on_save"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        offset = self.clock_offset_seconds
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not abs(offset) <= MAX_CLOCK_OFFSET:
            raise ValueError(f"clock_offset_seconds must be a number of seconds within ±{MAX_CLOCK_OFFSET}")

    def changed(self, updates: Any) -> SandboxOptions:
        """These options with `updates` (a JSON object of some of them) applied; ValueError names a bad one."""
        if not isinstance(updates, dict):
            raise ValueError("send a JSON object of options")
        known = {item.name for item in fields(self)}
        unknown = sorted(set(updates) - known)
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r}; the options are {', '.join(sorted(known))}")
        return replace(self, **updates)


class SandboxHost(Protocol):
    """What a service may use of the sandbox it is mounted on: the shared state (under its lock), the options,
    where it is served, and the way to answer a request as the whole sandbox would (a Worker calling Xano)."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def options(self) -> SandboxOptions: ...

    @property
    def url(self) -> str | None: ...

    def section(self, name: str, factory: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...

    def save(self) -> None: ...

    def handle(self, request: SandboxRequest) -> SandboxResponse: ...
