"""Routing for the sandbox's Metadata API: path templates relative to `/api:meta`, and the call a handler receives."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest
from mcpdeploy.sandbox.xano_errors import access_denied, input_error

XANOSCRIPT_TYPE = "text/x-xanoscript"


@dataclass
class MetaCall:
    sandbox: SandboxHost
    state: dict[str, Any]
    request: SandboxRequest
    params: dict[str, str] = field(default_factory=dict)

    @property
    def workspace_id(self) -> int:
        """The workspace of the path; one the token cannot see is 403, as Xano answers for foreign workspaces."""
        raw = self.params["workspace_id"]
        if not raw.isdigit() or raw not in self.state["workspaces"]:
            raise access_denied()
        return int(raw)

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.request.query.get(name)
        return default if raw is None or raw == "" else raw.lower() in ("true", "1")

    def is_xanoscript(self) -> bool:
        return self.request.content_type == XANOSCRIPT_TYPE

    def json_body(self, accepts_xanoscript: bool = False) -> dict[str, Any]:
        """The JSON object body (an empty object when there is none)."""
        if self.request.content_type not in ("application/json", ""):
            also = f" or {XANOSCRIPT_TYPE}" if accepts_xanoscript else ""
            raise input_error(f"Unsupported Content-Type: {self.request.content_type}. Send application/json{also}.")
        if not self.request.body.strip():
            return {}
        try:
            body = json.loads(self.request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise input_error(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise input_error("The request body must be a JSON object.")
        return body


Handler = Callable[[MetaCall], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, template: str, handler: Handler) -> Route:
    """`route("GET", "/workspace/{workspace_id}/table", list_tables)`: `{name}` matches one path segment."""
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")
    return Route(method, pattern, handler)


def find_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in routes:
        match = candidate.pattern.match(path)
        if match is not None and candidate.method == method:
            return candidate, match.groupdict()
    return None
