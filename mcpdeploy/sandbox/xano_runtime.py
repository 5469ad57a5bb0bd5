"""The endpoints the sandbox's Xano serves at `/api:<canonical>[:<branch>]/<path>`, run from their XanoScript.

Each API group's endpoints are matched by verb and route (`mcp_sessions/{session_id}` binds `session_id`), then
the stored document runs: inputs are read from the path, the query string (GET, DELETE) or the JSON body, checked
loosely by type, and a required one that is missing is 400 `ERROR_CODE_INPUT_ERROR` with `{"param": name}`. A
missing optional `text` input that is not nullable arrives as "" (Xano's behaviour, reported from live use), so
`$input.x|first_notnull:...` does not fall back for it; declare it `text? x?` to receive null. `auth = "<table>"`
requires `Authorization: Bearer <key>` with a key registered through `add_api_key` (401 otherwise) and sets
`$auth.id`. `db.get/has/add/edit/patch/add_or_edit/del`, `db.query` without `where`, `precondition`, `var`,
`var.update`, `conditional`, `throw` and `return` are interpreted; any other statement answers 500 naming it.
An endpoint created from JSON has no logic and answers `null`. Writes are not rolled back when a later statement
fails, as in Xano without a `db.transaction`.

Public helpers: `add_api_key(sandbox, key, user)` and `lookup_api_key(sandbox, key)`. State layout: xano_state.py.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from typing import Any

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.xano_errors import XanoError, input_error, missing_param, not_found, unauthorized
from mcpdeploy.sandbox.xano_rows import find_row, insert_row, now_ms, timestamp_ms, update_row
from mcpdeploy.sandbox.xano_state import REMOTE_IP, key_digest, table_by_name, xano_state
from mcpdeploy.sandbox.xano_statements import Run
from mcpdeploy.xanoscript.reader import FieldDecl, QueryDocument, read_document

__all__ = ["XanoRuntimeService", "add_api_key", "lookup_api_key", "mount"]

_TEXT_TYPES = ("text", "email", "password", "uuid", "date")
# Field notes from live use: an optional text input the caller leaves out arrives as "", not null.
_MISSING_TEXT_TYPES = ("text", "email", "password")


def add_api_key(sandbox: SandboxHost, key: str, user: dict[str, Any]) -> None:
    """Let `key` open `auth = "user"` endpoints (auth/me) as `user`, which is stored in the `user` table (by id)."""
    with sandbox.lock:
        state = xano_state(sandbox)
        table = table_by_name(state, credentials.XANO_WORKSPACE_ID, "user")
        if table is None:
            raise LookupError("The sandbox's Xano workspace has no `user` table to hold the key's user.")
        existing = find_row(table, "id", user["id"]) if user.get("id") is not None else None
        stored = update_row(table, existing, user) if existing else insert_row(table, user, allow_id=True)
        state["api_keys"][key_digest(key)] = stored["id"]
        sandbox.save()


def lookup_api_key(sandbox: SandboxHost, key: str) -> dict[str, Any] | None:
    """The user a bearer key belongs to, or None for an unknown key (or one whose user was deleted)."""
    with sandbox.lock:
        state = xano_state(sandbox)
        user_id = state["api_keys"].get(key_digest(key))
        table = table_by_name(state, credentials.XANO_WORKSPACE_ID, "user")
        if user_id is None or table is None:
            return None
        row = find_row(table, "id", user_id)
        return copy.deepcopy(row) if row is not None else None


@lru_cache(maxsize=256)
def _document(text: str) -> QueryDocument:
    document = read_document(text)
    assert isinstance(document, QueryDocument)  # the Metadata API stores only query documents on endpoints
    return document


def _route_pattern(name: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", name.strip("/"))
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}/?$")


class XanoRuntimeService:
    prefix = "/api:"

    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox

    def claims(self, path: str) -> bool:
        if not path.startswith("/api:"):
            return False
        head = path[5:].split("/", 1)[0]
        return head.split(":", 1)[0] not in ("", "meta")

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        try:
            value = self._serve(request)
        except XanoError as error:
            return SandboxResponse.json(error.status, error.body())
        return SandboxResponse.json(200, value)

    def _serve(self, request: SandboxRequest) -> Any:
        state = xano_state(self.sandbox)
        head, _, rest = request.path[5:].partition("/")
        canonical, _, branch = head.partition(":")
        group = next((g for g in state["apigroups"].values() if g["canonical"] == canonical), None)
        if group is None:
            raise not_found()
        labels = {b["label"] for b in state["workspaces"][str(group["workspace_id"])]["branches"]}
        if branch and branch not in labels:
            raise not_found()
        api, path_params = self._match(state, group, request.method, rest)
        if api["xanoscript"] is None:
            return None
        document = _document(api["xanoscript"])
        variables: dict[str, Any] = {"input": read_inputs(document.inputs, request, path_params),
                                     "env": _environment(request, branch or "v1")}
        if document.auth:
            user = lookup_api_key(self.sandbox, request.bearer() or "")
            if user is None:
                raise unauthorized()
            variables["auth"] = {"id": user["id"]}
        run = Run(state, group["workspace_id"], variables)
        return run.respond(document)

    @staticmethod
    def _match(state: dict[str, Any], group: dict[str, Any], method: str,
               rest: str) -> tuple[dict[str, Any], dict[str, str]]:
        candidates = sorted((a for a in state["apis"].values() if a["apigroup_id"] == group["id"]),
                            key=lambda a: ("{" in a["name"], a["id"]))
        for api in candidates:
            match = _route_pattern(api["name"]).match(rest)
            if match is not None and api["verb"] == method:
                return api, match.groupdict()
        raise not_found()


def _environment(request: SandboxRequest, branch: str) -> dict[str, Any]:
    return {"$remote_ip": REMOTE_IP, "$request_method": request.method, "$request_uri": request.path,
            "$datasource": request.headers.get("x-data-source", "live"), "$branch": branch,
            "$http_headers": {k: v for k, v in request.headers.items() if k != "authorization"}}


# ---- inputs ------------------------------------------------------------------------------------------------------


def read_inputs(decls: list[FieldDecl], request: SandboxRequest, path_params: dict[str, str]) -> dict[str, Any]:
    supplied: dict[str, Any] = dict(request.query)
    if request.method not in ("GET", "DELETE", "HEAD") and request.body.strip():
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise input_error("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise input_error("The request body must be a JSON object.")
        supplied.update(body)
    supplied.update(path_params)
    return {decl.name: _input_value(decl, supplied) for decl in decls}


def _input_value(decl: FieldDecl, supplied: dict[str, Any]) -> Any:
    raw = supplied.get(decl.name)
    if raw is None:
        if decl.has_default:
            return now_ms() if decl.default == "now" and decl.type == "timestamp" else decl.default
        if not decl.optional:
            raise missing_param(decl.name)
        return "" if decl.type in _MISSING_TEXT_TYPES and not decl.nullable and not decl.is_list else None
    if decl.is_list:
        if not isinstance(raw, list):
            raise input_error(f"Value is not a list: {decl.name}", {"param": decl.name})
        return [_typed(decl, item) for item in raw]
    return _typed(decl, raw)


def _typed(decl: FieldDecl, raw: Any) -> Any:
    try:
        value = _convert(decl.type, raw)
    except (TypeError, ValueError):
        raise input_error(f"Value is not a valid {decl.type}: {decl.name}", {"param": decl.name}) from None
    for name, _ in decl.filters:
        if isinstance(value, str) and name in ("trim", "lower", "upper"):
            value = {"trim": value.strip, "lower": value.lower, "upper": value.upper}[name]()
    return value


def _convert(kind: str, raw: Any) -> Any:
    if kind == "int":
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError(raw)
        return int(raw)
    if kind == "decimal":
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(raw)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "1", "false", "0"):
            return str(raw).lower() in ("true", "1")
        raise ValueError(raw)
    if kind == "timestamp":
        return timestamp_ms(raw)
    if kind in _TEXT_TYPES:
        if isinstance(raw, (dict, list)):
            raise ValueError(raw)
        return raw if isinstance(raw, str) else json.dumps(raw)
    return raw


def mount(sandbox: SandboxHost) -> XanoRuntimeService:
    return XanoRuntimeService(sandbox)
