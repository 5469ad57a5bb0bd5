"""The sandbox's Xano Metadata API at `/api:meta/...`, strict where Xano is strict.

Only `Authorization: Bearer sandbox-xano-metadata-token` (credentials.XANO_METADATA_TOKEN) is accepted; anything
else is 401 `ERROR_CODE_UNAUTHORIZED`. A workspace the token cannot see is 403 `ERROR_CODE_ACCESS_DENIED`. Unknown
routes and unknown methods on known paths (PATCH on an endpoint) are 404 "Unable to locate request.". Every
error body is `{"code", "message"[, "payload"]}`. A request that fails changes nothing: writes run on the state
and are rolled back on an error, so a rejected schema PUT leaves the schema as it was.

Handlers live in xano_tables.py, xano_content.py and xano_apis.py; the state layout is documented in
xano_state.py.
"""

from __future__ import annotations

import copy
from typing import Any

from mcpdeploy.sandbox import credentials, xano_apis, xano_content, xano_tables
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.xano_errors import XanoError, not_found, unauthorized
from mcpdeploy.sandbox.xano_routing import MetaCall, Route, find_route, route
from mcpdeploy.sandbox.xano_state import xano_state

PREFIX = "/api:meta"


def auth_me(call: MetaCall) -> Any:
    return {"id": 1, "name": "Sandbox Developer", "email": "developer@sandbox.test", "created_at": 1700000000,
            "extras": {"instance": {"id": 1, "name": "sandbox", "display": "mcpdeploy sandbox"}}}


def _workspace_object(workspace: dict[str, Any]) -> dict[str, Any]:
    return {"id": workspace["id"], "name": workspace["name"], "description": workspace["description"],
            "branch": "v1"}


def list_workspaces(call: MetaCall) -> Any:
    return [_workspace_object(w) for w in call.state["workspaces"].values()]


def get_workspace(call: MetaCall) -> Any:
    return _workspace_object(call.state["workspaces"][str(call.workspace_id)])


def list_branches(call: MetaCall) -> Any:
    return [dict(branch) for branch in call.state["workspaces"][str(call.workspace_id)]["branches"]]


ROUTES: list[Route] = [
    route("GET", "/auth/me", auth_me),
    route("GET", "/workspace", list_workspaces),
    route("GET", "/workspace/{workspace_id}", get_workspace),
    route("GET", "/workspace/{workspace_id}/branch", list_branches),
    *xano_tables.ROUTES,
    *xano_content.ROUTES,
    *xano_apis.ROUTES,
]


class XanoMetaService:
    prefix = PREFIX

    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox

    def claims(self, path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        state = xano_state(self.sandbox)
        snapshot = copy.deepcopy(state) if request.method != "GET" else None
        try:
            if request.bearer() != credentials.XANO_METADATA_TOKEN:
                raise unauthorized()
            found = find_route(ROUTES, request.method, request.path[len(PREFIX):] or "/")
            if found is None:
                raise not_found()
            matched, params = found
            payload = matched.handler(MetaCall(self.sandbox, state, request, params))
        except XanoError as error:
            if snapshot is not None:
                state.clear()
                state.update(snapshot)
            return SandboxResponse.json(error.status, error.body())
        return SandboxResponse.json(200, payload)


def mount(sandbox: SandboxHost) -> XanoMetaService:
    return XanoMetaService(sandbox)
