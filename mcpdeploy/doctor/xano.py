"""The Xano token and what it reaches: the workspace, reads of its tables and API groups, the project's API group.

The Metadata API has no call that lists a token's scopes, and `auth/me` answers for any valid token: all doctor can
see is which reads succeed or are refused. Whether the token may create, update or delete is only seen by writing,
which doctor never does; provision names a missing write scope when it meets one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mcpdeploy.doctor.check import MISSING, Check, Target, from_error, ok, problem
from mcpdeploy.errors import ApiError, McpdeployError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import HttpOptions, decode_json
from mcpdeploy.providers.xano import XanoClient

T = TypeVar("T")
REFUSED = ExitCode.API_REJECTED
NEW_TOKEN = ("Make a new Metadata API token (Xano: Instance settings > Metadata API & MCP Server > Manage Access "
             "Tokens) with Database and API Groups read/create/update on the workspace, and set XANO_METADATA_TOKEN "
             "(or XANO_METADATA_TOKEN_FILE).")
WRITES_UNSEEN = "create, update and delete cannot be seen without writing (the Metadata API lists no scopes)"


def _attempt(call: Callable[[], T]) -> tuple[T | None, McpdeployError | None]:
    try:
        return call(), None
    except McpdeployError as exc:
        return None, exc


def _status(exc: McpdeployError) -> int | None:
    return exc.status if isinstance(exc, ApiError) else None


def xano_checks(target: Target, options: HttpOptions) -> list[Check]:
    try:
        instance_url, workspace_id, token = target.settings.require_xano()
    except McpdeployError as exc:
        return [from_error("xano", exc)]
    client = XanoClient(instance_url, token, workspace_id, branch=target.settings.xano.branch, options=options)
    try:
        return _checks(client, target)
    finally:
        client.close()


def _checks(client: XanoClient, target: Target) -> list[Check]:
    me, error = _attempt(client.whoami)
    if error is not None:
        if _status(error) in (401, 403):
            return [problem("xano token", f"refused by {client.instance_url}: revoked, expired or mistyped "
                                          f"({error.message})", NEW_TOKEN, REFUSED)]
        return [from_error("xano token", error)]
    who = me.get("name") if isinstance(me, dict) else None
    checks = [ok("xano token", f"accepted by {client.instance_url}" + (f" (user {who})" if who else ""))]
    workspace = _workspace_check(client)
    checks.append(workspace)
    if workspace.status != "ok":
        return checks
    _, tables_check = _read_scope(client.list_tables, "Database", "tables")
    groups, groups_check = _read_scope(client.list_api_groups, "API Groups", "API groups")
    checks += [tables_check, groups_check]
    if groups is not None:
        checks.append(_api_group_check(groups, target))
    return checks


def _workspace_check(client: XanoClient) -> Check:
    name = "xano workspace"
    path = f"workspace/{client.workspace_id}"
    body, error = _attempt(lambda: decode_json(client.send("GET", path), client.service, client.options.redactor))
    if error is None:
        label = body.get("name") if isinstance(body, dict) else None
        return ok(name, f"workspace {client.workspace_id}" + (f" ({label!r})" if label else ""))
    status = _status(error)
    if status == 404:
        return problem(name, f"no workspace {client.workspace_id} on {client.instance_url}",
                       "Check XANO_WORKSPACE_ID (or [xano] workspace_id): the number in the workspace's URL.",
                       MISSING)
    if status in (401, 403):
        return problem(name, f"the token may not read workspace {client.workspace_id} ({error.message})",
                       "Give the token access to this workspace (scope Instance Workspace: Read), or check "
                       "XANO_WORKSPACE_ID.", REFUSED)
    return from_error(name, error)


def _read_scope(call: Callable[[], list[dict[str, Any]]], scope: str,
                what: str) -> tuple[list[dict[str, Any]] | None, Check]:
    name = f"xano scope: {scope}"
    items, error = _attempt(call)
    if error is None:
        return items, ok(name, f"read allowed ({len(items or [])} {what}); {WRITES_UNSEEN}")
    if _status(error) in (401, 403):
        return None, problem(name, f"reading {what} was refused ({error.message})",
                             f"Give the token the {scope} scope on this workspace: Read, Create and Update (and "
                             "Delete for rollback).", REFUSED)
    return None, from_error(name, error)


def _api_group_check(groups: list[dict[str, Any]], target: Target) -> Check:
    wanted = target.settings.xano.api_group
    found = next((g for g in groups if g.get("name") == wanted), None)
    if found is None:
        return problem("xano api group", f"no API group {wanted!r} in the workspace",
                       target.command("provision") + " creates it", MISSING)
    canonical = found.get("canonical")
    return ok("xano api group", f"{wanted!r}" + (f" (canonical {canonical})" if canonical else ""))
