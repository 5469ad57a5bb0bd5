"""Metadata API handlers for API groups and their endpoints (`/workspace/{w}/apigroup...`).

Logic only travels as a `text/x-xanoscript` body: a JSON create makes an empty endpoint shell (a `xanoscript`
key in the JSON is dropped, as Xano drops it), which answers `null` at run time. `PUT ?publish=false` keeps the
new document as a draft (read with `include_draft=true`) and leaves the published logic serving.
"""

from __future__ import annotations

import re
from typing import Any

from mcpdeploy.sandbox.xano_errors import input_error, missing_param, not_found, syntax_error
from mcpdeploy.sandbox.xano_routing import MetaCall, Route, route
from mcpdeploy.sandbox.xano_schema import default_text, empty_query, render_empty_query
from mcpdeploy.sandbox.xano_state import meta_timestamp, new_api, new_apigroup, page_numbers, paged, table_by_name
from mcpdeploy.xanoscript.reader import (
    ApiGroupDocument,
    Grammar,
    QueryDocument,
    Statement,
    XanoScriptSyntaxError,
    read_document,
)
from mcpdeploy.xanoscript.writer import write_query

_CANONICAL = re.compile(r"^[A-Za-z0-9_-]+$")
_JSON_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_GROUP_KEYS = ("id", "created_at", "updated_at", "name", "description", "docs", "guid", "canonical", "swagger",
               "branch", "tag")
_API_KEYS = ("id", "created_at", "updated_at", "name", "description", "docs", "guid", "cache", "auth", "verb",
             "input", "tag", "apigroup_id")


def _read(call: MetaCall) -> Any:
    try:
        return read_document(call.request.text())
    except XanoScriptSyntaxError as exc:
        raise syntax_error(str(exc)) from None


def _check_branch(call: MetaCall) -> None:
    branch = call.request.query.get("branch", "")
    labels = {b["label"] for b in call.state["workspaces"][str(call.workspace_id)]["branches"]}
    if branch and branch not in labels:
        raise not_found(f"Unable to locate branch: {branch}")


def _sorted(call: MetaCall, items: list[dict[str, Any]], searched: str) -> list[dict[str, Any]]:
    sort = call.request.query.get("sort") or "created_at"
    if sort not in ("created_at", "updated_at", "name", "id"):
        raise input_error(f"Invalid value for param: sort ({sort})", {"param": "sort"})
    search = call.request.query.get("search", "").lower()
    chosen = [item for item in items if search in str(item[searched]).lower()]
    chosen.sort(key=lambda item: (item[sort], item["id"]), reverse=call.request.query.get("order", "desc") != "asc")
    return chosen


# ---- API groups --------------------------------------------------------------------------------------------------


def group_object(call: MetaCall, group: dict[str, Any], include_xanoscript: bool) -> dict[str, Any]:
    obj = {key: group[key] for key in _GROUP_KEYS}
    host = call.request.headers.get("host", "sandbox.test")
    obj["documentation"] = {"link": f"http://{host}/apispec:{group['canonical']}?type=json"}
    if include_xanoscript:
        text = group["xanoscript"] or (f'api_group "{group["name"]}" {{\n  canonical = "{group["canonical"]}"\n'
                                       f'  swagger = {{active: {"true" if group["swagger"] else "false"}}}\n}}\n')
        obj["xanoscript"] = {"status": "ok", "value": text, "message": ""}
    return obj


def find_group(call: MetaCall) -> dict[str, Any]:
    workspace_id = call.workspace_id
    group = call.state["apigroups"].get(call.params["apigroup_id"])
    if group is None or group["workspace_id"] != workspace_id:
        raise not_found("Unable to locate API group.")
    found: dict[str, Any] = group
    return found


def _check_group_names(call: MetaCall, name: str, canonical: str | None, except_id: int | None = None) -> None:
    if canonical is not None and not _CANONICAL.match(canonical):
        raise input_error("Invalid value for param: canonical (letters, digits, `_` and `-` only)",
                          {"param": "canonical"})
    for group in call.state["apigroups"].values():
        if group["id"] == except_id:
            continue
        if canonical is not None and group["canonical"] == canonical:
            raise input_error(f"The canonical `{canonical}` is already in use.", {"param": "canonical"})
        if group["workspace_id"] == call.workspace_id and group["name"] == name:
            raise input_error(f"An API group named `{name}` already exists.", {"param": "name"})


def _group_fields(call: MetaCall) -> dict[str, Any]:
    if call.is_xanoscript():
        document = _read(call)
        if not isinstance(document, ApiGroupDocument):
            raise input_error("This endpoint takes an `api_group` XanoScript document.")
        return {"name": document.name, "description": document.description, "docs": document.docs,
                "swagger": document.swagger, "canonical": document.canonical, "tag": document.tags,
                "xanoscript": document.text}
    body = call.json_body(accepts_xanoscript=True)
    for key in ("name", "description", "swagger"):
        if key not in body or body[key] is None or (key == "name" and not str(body[key]).strip()):
            raise missing_param(key)
    return {"name": str(body["name"]), "description": str(body["description"]), "docs": str(body.get("docs") or ""),
            "swagger": bool(body["swagger"]), "canonical": body.get("canonical") or None,
            "tag": list(body.get("tag") or []), "xanoscript": None}


def list_groups(call: MetaCall) -> Any:
    _check_branch(call)
    page, per_page = page_numbers(call.request.query.get("page"), call.request.query.get("per_page"))
    groups = [g for g in call.state["apigroups"].values() if g["workspace_id"] == call.workspace_id]
    include = call.flag("include_xanoscript")
    return paged([group_object(call, g, include) for g in _sorted(call, groups, "name")], page, per_page)


def create_group(call: MetaCall) -> Any:
    _check_branch(call)
    fields = _group_fields(call)
    _check_group_names(call, fields["name"], fields["canonical"])
    group = new_apigroup(call.state, call.workspace_id, fields["name"], fields["description"], fields["canonical"],
                         fields["swagger"], fields["xanoscript"])
    group.update(docs=fields["docs"], tag=fields["tag"])
    return group_object(call, group, call.flag("include_xanoscript"))


def get_group(call: MetaCall) -> Any:
    return group_object(call, find_group(call), call.flag("include_xanoscript"))


def replace_group(call: MetaCall) -> Any:
    group = find_group(call)
    fields = _group_fields(call)
    _check_group_names(call, fields["name"], fields["canonical"], except_id=group["id"])
    canonical = fields.pop("canonical") or group["canonical"]
    group.update(fields, canonical=canonical, updated_at=meta_timestamp())
    return group_object(call, group, call.flag("include_xanoscript"))


def delete_group(call: MetaCall) -> Any:
    group = find_group(call)
    del call.state["apigroups"][str(group["id"])]
    for key in [k for k, api in call.state["apis"].items() if api["apigroup_id"] == group["id"]]:
        del call.state["apis"][key]
    return {}


# ---- APIs --------------------------------------------------------------------------------------------------------


def api_object(call: MetaCall, api: dict[str, Any], include_xanoscript: bool,
               include_draft: bool = False) -> dict[str, Any]:
    obj = {key: api[key] for key in _API_KEYS}
    if include_xanoscript:
        draft = include_draft and bool(api["draft_xanoscript"])
        obj["xanoscript"] = {"status": "ok", "value": api_echo(call, api, draft), "message": ""}
    return obj


def api_echo(call: MetaCall, api: dict[str, Any], draft: bool = False) -> str:
    """The endpoint's XanoScript as Xano answers it: regenerated from what it stored, with the group's name as
    `api_group` (Xano keeps no text; see xano_state.py), or, in the verbatim echo mode, the document as sent."""
    text = api["draft_xanoscript"] if draft else api["xanoscript"]
    options = call.sandbox.options
    if options.xano_echo == "verbatim":
        return str(text or render_empty_query(api["name"], api["verb"]))
    document = _stored_document(text) if text else None
    if document is None:
        document = empty_query(api["name"], api["verb"], api["description"])
    elif not draft:
        # Properties changed through JSON since the document was sent are part of the model too.
        document.path, document.verb, document.description = api["name"], api["verb"], api["description"]
        document.tags = [str(tag) for tag in api["tag"]]
    group = call.state["apigroups"][str(api["apigroup_id"])]
    return write_query(document, api_group=str(group["name"]), guid=str(api["guid"]) if options.guid_on_save else None)


def _stored_document(text: str) -> QueryDocument | None:
    try:
        document = read_document(text, Grammar.ECHO)
    except XanoScriptSyntaxError:
        return None  # only a state saved by an older, laxer sandbox could hold one
    return document if isinstance(document, QueryDocument) else None


def _find_api(call: MetaCall) -> tuple[dict[str, Any], dict[str, Any]]:
    group = find_group(call)
    api = call.state["apis"].get(call.params["api_id"])
    if api is None or api["apigroup_id"] != group["id"]:
        raise not_found("Unable to locate API.")
    return group, api


def _check_route_free(call: MetaCall, group: dict[str, Any], name: str, verb: str, except_id: int | None) -> None:
    for api in call.state["apis"].values():
        if api["apigroup_id"] == group["id"] and api["name"] == name and api["verb"] == verb and api["id"] != except_id:
            raise input_error(f"An API for {verb} {name} already exists in this group.", {"param": "name"})


def _query_document(call: MetaCall) -> QueryDocument:
    document = _read(call)
    if not isinstance(document, QueryDocument):
        raise input_error("This endpoint takes a `query` XanoScript document.")
    _check_tables_exist(call, document.stack)
    return document


def _check_tables_exist(call: MetaCall, stack: list[Statement]) -> None:
    """Xano stores `db.*` statements against table ids, so a statement naming a missing table cannot be saved."""
    for statement in stack:
        known = table_by_name(call.state, call.workspace_id, statement.target) is not None
        if statement.keyword.startswith("db.") and statement.emulated and not known:
            raise input_error(f"Line {statement.line}: Unable to locate table: {statement.target}",
                              {"param": "xanoscript"})
        for _, body in statement.branches:
            _check_tables_exist(call, body)


def inputs_json(document: QueryDocument) -> list[dict[str, Any]]:
    return [{"name": decl.name, "type": decl.type, "description": str(decl.attributes.get("description", "")),
             "nullable": decl.nullable, "required": not decl.optional,
             "default": default_text(decl.default) if decl.has_default else "",
             "style": "list" if decl.is_list else "single", "source": "default"} for decl in document.inputs]


def list_apis(call: MetaCall) -> Any:
    group = find_group(call)
    page, per_page = page_numbers(call.request.query.get("page"), call.request.query.get("per_page"))
    apis = [a for a in call.state["apis"].values() if a["apigroup_id"] == group["id"]]
    include, draft = call.flag("include_xanoscript"), call.flag("include_draft")
    return paged([api_object(call, a, include, draft) for a in _sorted(call, apis, "name")], page, per_page)


def create_api(call: MetaCall) -> Any:
    _check_branch(call)
    group = find_group(call)
    if call.is_xanoscript():
        document = _query_document(call)
        _check_route_free(call, group, document.path, document.verb, None)
        api = new_api(call.state, group, document.path, document.verb, document.description, document.text)
        api.update(input=inputs_json(document), tag=document.tags)
    else:
        body = call.json_body(accepts_xanoscript=True)
        name, verb = _json_name_and_verb(body)
        _check_route_free(call, group, name, verb, None)
        api = new_api(call.state, group, name, verb, str(body["description"]), None)
        api.update(docs=str(body.get("docs") or ""), tag=list(body.get("tag") or []))
    return api_object(call, api, call.flag("include_xanoscript"))


def _json_name_and_verb(body: dict[str, Any]) -> tuple[str, str]:
    for key in ("name", "description", "verb"):
        if body.get(key) is None or (key != "description" and not str(body[key]).strip()):
            raise missing_param(key)
    verb = str(body["verb"]).upper()
    if verb not in _JSON_VERBS:
        raise input_error(f"Invalid value for param: verb ({body['verb']})", {"param": "verb"})
    return str(body["name"]), verb


def get_api(call: MetaCall) -> Any:
    return api_object(call, _find_api(call)[1], call.flag("include_xanoscript"), call.flag("include_draft"))


def replace_api(call: MetaCall) -> Any:
    group, api = _find_api(call)
    if call.is_xanoscript():
        document = _query_document(call)
        _check_route_free(call, group, document.path, document.verb, api["id"])
        if call.flag("publish", default=True):
            api.update(name=document.path, verb=document.verb, description=document.description,
                       xanoscript=document.text, draft_xanoscript=None, input=inputs_json(document),
                       tag=document.tags)
        else:
            api["draft_xanoscript"] = document.text
    else:
        body = call.json_body(accepts_xanoscript=True)
        name, verb = _json_name_and_verb(body)
        _check_route_free(call, group, name, verb, api["id"])
        api.update(name=name, verb=verb, description=str(body["description"]), docs=str(body.get("docs") or ""))
        if "tag" in body:
            api["tag"] = list(body["tag"] or [])
    api["updated_at"] = meta_timestamp()
    return {}


def delete_api(call: MetaCall) -> Any:
    _, api = _find_api(call)
    del call.state["apis"][str(api["id"])]
    return {}


_G = "/workspace/{workspace_id}/apigroup"
ROUTES: list[Route] = [
    route("GET", _G, list_groups),
    route("POST", _G, create_group),
    route("GET", _G + "/{apigroup_id}", get_group),
    route("PUT", _G + "/{apigroup_id}", replace_group),
    route("DELETE", _G + "/{apigroup_id}", delete_group),
    route("GET", _G + "/{apigroup_id}/api", list_apis),
    route("POST", _G + "/{apigroup_id}/api", create_api),
    route("GET", _G + "/{apigroup_id}/api/{api_id}", get_api),
    route("PUT", _G + "/{apigroup_id}/api/{api_id}", replace_api),
    route("DELETE", _G + "/{apigroup_id}/api/{api_id}", delete_api),
]
