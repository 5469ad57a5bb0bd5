"""The sandbox's Xano Metadata API, used the way mcpdeploy's client uses the real one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from tests.sandbox import API_MCP_SESSIONS_GET, API_MCP_SESSIONS_POST, TABLE_MCP_SESSIONS

BASE = "http://sandbox.test"
XS = {"Content-Type": "text/x-xanoscript"}
WS = "/api:meta/workspace/1"

# What Xano answers for TABLE_MCP_SESSIONS and API_MCP_SESSIONS_GET: not the text sent but the text it regenerates
# from what it stored (descriptions as comments, the group's name first, its own layout, no final newline).
TABLE_MCP_SESSIONS_ECHOED = """\
// MCP client sessions
table mcp_sessions {
  auth = false

  schema {
    int id
    text session_id filters=trim
    text user_id filters=trim
    json client_info?
    text status?=active filters=trim
    timestamp last_active?=now
    timestamp created_at?=now
    timestamp updated_at?=now
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {
      type : "btree|unique"
      field: [{name: "session_id", op: "asc"}]
    }
    {type: "btree", field: [{name: "user_id", op: "asc"}]}
  ]
}"""

API_MCP_SESSIONS_GET_ECHOED = """\
// Fetch one MCP session by its session_id (404 when missing)
query "mcp_sessions/{session_id}" verb=GET {
  api_group = "mcp"

  input {
    text session_id filters=trim
  }

  stack {
    db.get mcp_sessions {
      field_name = "session_id"
      field_value = $input.session_id
    } as $session

    precondition ($session != null) {
      error_type = "notfound"
      error = "Session not found"
    }
  }

  response = $session
}"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def client_for(sandbox: Sandbox, token: str | None = credentials.XANO_METADATA_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE, headers=headers)


@pytest.fixture
def meta(sandbox: Sandbox) -> httpx.Client:
    return client_for(sandbox)


def create_table(meta: httpx.Client, document: str = TABLE_MCP_SESSIONS) -> dict[str, Any]:
    response = meta.post(f"{WS}/table", content=document, headers=XS)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def create_group(meta: httpx.Client, name: str = "mcp") -> dict[str, Any]:
    response = meta.post(f"{WS}/apigroup", json={"name": name, "description": "", "swagger": True})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


# ---- auth, routes, workspaces ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-the-sandbox-token"])
def test_refuses_a_missing_or_unknown_token(sandbox: Sandbox, token: str | None) -> None:
    response = client_for(sandbox, token).get(f"{WS}/table")

    assert response.status_code == 401
    assert response.json() == {"code": "ERROR_CODE_UNAUTHORIZED", "message": "Unauthorized - Authentication Required"}


def test_auth_me_describes_the_token_owner(meta: httpx.Client) -> None:
    me = meta.get("/api:meta/auth/me").json()

    assert set(me) >= {"id", "name", "email", "extras"}


def test_unknown_routes_are_404_unable_to_locate_request(meta: httpx.Client) -> None:
    for response in (meta.post(f"{WS}/table/1/schema/text", json={"name": "x"}), meta.get(f"{WS}/tables")):
        assert response.status_code == 404
        assert response.json() == {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."}


def test_workspaces_and_branches_are_bare_arrays(meta: httpx.Client) -> None:
    assert meta.get("/api:meta/workspace").json() == [
        {"id": 1, "name": "sandbox", "description": "mcpdeploy's local sandbox", "branch": "v1"}]
    branches = meta.get(f"{WS}/branch").json()
    assert [(b["label"], b["live"], b["backup"]) for b in branches] == [("v1", True, False)]


def test_an_unknown_workspace_is_access_denied(meta: httpx.Client) -> None:
    response = meta.get("/api:meta/workspace/7/table")

    assert response.status_code == 403
    assert response.json()["code"] == "ERROR_CODE_ACCESS_DENIED"


# ---- tables ------------------------------------------------------------------------------------------------------


def test_table_list_is_paged_and_ends_with_next_page_null(meta: httpx.Client) -> None:
    for number in range(60):
        assert meta.post(f"{WS}/table", json={"name": f"t{number:02d}"}).status_code == 200

    first = meta.get(f"{WS}/table", params={"per_page": 50}).json()
    second = meta.get(f"{WS}/table", params={"per_page": 50, "page": first["nextPage"]}).json()

    assert (first["curPage"], first["nextPage"], first["prevPage"], len(first["items"])) == (1, 2, None, 50)
    assert (second["curPage"], second["nextPage"], second["prevPage"]) == (2, None, 1)
    names = [t["name"] for t in first["items"] + second["items"]]
    assert len(names) == 61 and "user" in names and "t59" in names  # 60 made here + the seeded `user` table
    assert meta.get(f"{WS}/table").json()["nextPage"] == 2  # default per_page is 50
    assert meta.get(f"{WS}/table", params={"per_page": 61}).json()["nextPage"] is None  # exactly one full page


def test_table_list_search_filters_by_name(meta: httpx.Client) -> None:
    create_table(meta)

    found = meta.get(f"{WS}/table", params={"search": "sessions"}).json()["items"]

    assert [t["name"] for t in found] == ["mcp_sessions"]


def test_xanoscript_table_reads_back_schema_indexes_and_document(meta: httpx.Client) -> None:
    table = create_table(meta)

    schema = meta.get(f"{WS}/table/{table['id']}/schema").json()
    indexes = meta.get(f"{WS}/table/{table['id']}/index").json()
    read = meta.get(f"{WS}/table/{table['id']}", params={"include_xanoscript": "true"}).json()

    assert [f["name"] for f in schema][:3] == ["id", "session_id", "user_id"]
    status = next(f for f in schema if f["name"] == "status")
    assert status | {"validators": None} == {
        "name": "status", "type": "text", "description": "", "nullable": False, "required": False,
        "default": "active", "access": "public", "sensitive": False, "style": "single", "validators": None}
    assert next(f for f in schema if f["name"] == "last_active")["default"] == "now"
    assert [(i["type"], i["fields"]) for i in indexes] == [
        ("primary", [{"name": "id", "op": "asc"}]), ("btree|unique", [{"name": "session_id", "op": "asc"}]),
        ("btree", [{"name": "user_id", "op": "asc"}])]
    assert all(isinstance(i["id"], str) for i in indexes)
    assert read["xanoscript"] == {"status": "ok", "value": TABLE_MCP_SESSIONS_ECHOED, "message": ""}


def test_json_table_gets_id_created_at_and_default_indexes(meta: httpx.Client) -> None:
    table = meta.post(f"{WS}/table", json={"name": "events", "description": "d"}).json()

    schema = meta.get(f"{WS}/table/{table['id']}/schema").json()
    indexes = meta.get(f"{WS}/table/{table['id']}/index").json()

    assert [(f["name"], f["type"]) for f in schema] == [("id", "int"), ("created_at", "timestamp")]
    assert [(i["type"], i["fields"]) for i in indexes] == [
        ("primary", [{"name": "id", "op": "asc"}]), ("btree", [{"name": "created_at", "op": "desc"}])]


def test_a_duplicate_table_name_is_an_input_error(meta: httpx.Client) -> None:
    create_table(meta)

    again = meta.post(f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)

    assert again.status_code == 400
    assert again.json()["code"] == "ERROR_CODE_INPUT_ERROR"


def test_table_put_replaces_the_definition_from_xanoscript(meta: httpx.Client) -> None:
    table = create_table(meta)
    smaller = "table mcp_sessions {\n  schema {\n    int id\n    text session_id\n  }\n}\n"

    assert meta.put(f"{WS}/table/{table['id']}", content=smaller, headers=XS).status_code == 200

    schema = meta.get(f"{WS}/table/{table['id']}/schema").json()
    assert [f["name"] for f in schema] == ["id", "session_id"]


def test_delete_table(meta: httpx.Client) -> None:
    table = create_table(meta)

    assert meta.delete(f"{WS}/table/{table['id']}").status_code == 200
    assert meta.get(f"{WS}/table/{table['id']}").status_code == 404


# ---- schema ------------------------------------------------------------------------------------------------------


def test_schema_put_without_the_primary_key_first_is_refused_and_changes_nothing(meta: httpx.Client) -> None:
    table = create_table(meta)
    before = meta.get(f"{WS}/table/{table['id']}/schema").json()

    response = meta.put(f"{WS}/table/{table['id']}/schema",
                        json={"schema": [{"name": "note", "type": "text", "nullable": True, "required": False}]})

    assert response.status_code == 400
    assert response.json() == {"code": "ERROR_CODE_INPUT_ERROR",
                               "message": "First schema entry must be the Primary key."}
    assert meta.get(f"{WS}/table/{table['id']}/schema").json() == before


def test_schema_put_drops_absent_columns_with_their_data(meta: httpx.Client) -> None:
    table = meta.post(f"{WS}/table", json={"name": "notes"}).json()
    meta.post(f"{WS}/table/{table['id']}/schema/type/text", json={"name": "body"})
    meta.post(f"{WS}/table/{table['id']}/content/bulk", json={"items": [{"body": "hello"}]})
    schema = meta.get(f"{WS}/table/{table['id']}/schema").json()

    meta.put(f"{WS}/table/{table['id']}/schema", json={"schema": [f for f in schema if f["name"] != "body"]})

    rows = meta.get(f"{WS}/table/{table['id']}/content").json()["items"]
    assert [sorted(row) for row in rows] == [["created_at", "id"]]


def test_add_a_text_column_then_rename_and_delete_it(meta: httpx.Client) -> None:
    table = create_table(meta)
    columns = f"{WS}/table/{table['id']}/schema"

    added = meta.post(f"{columns}/type/text", json={"name": "client_name", "nullable": True, "default": ""})
    duplicate = meta.post(f"{columns}/type/text", json={"name": "client_name"})
    unknown_type = meta.post(f"{columns}/type/varchar", json={"name": "x"})

    assert added.json() == {"name": "client_name"}
    assert meta.get(f"{columns}/client_name").json()["type"] == "text"
    assert duplicate.status_code == 400
    assert unknown_type.status_code == 404
    assert meta.post(f"{columns}/rename", json={"old_name": "client_name", "new_name": "client"}).status_code == 200
    assert meta.delete(f"{columns}/client").status_code == 200
    assert "client" not in [f["name"] for f in meta.get(columns).json()]


# ---- indexes -----------------------------------------------------------------------------------------------------


def test_a_unique_index_made_by_post_is_listed_enforced_and_deletable(meta: httpx.Client) -> None:
    table = meta.post(f"{WS}/table", json={"name": "keys"}).json()
    path = f"{WS}/table/{table['id']}"
    meta.post(f"{path}/schema/type/text", json={"name": "key"})

    made = meta.post(f"{path}/index/unique", json={"fields": [{"name": "key", "op": "asc"}]}).json()
    duplicate = meta.post(f"{path}/content/bulk", json={"items": [{"key": "a"}, {"key": "a"}]})

    assert {"id": made["id"], "type": "btree|unique", "fields": [{"name": "key", "op": "asc"}]} in meta.get(
        f"{path}/index").json()
    assert duplicate.status_code == 400
    assert "Duplicate record" in duplicate.json()["message"]
    assert meta.get(f"{path}/content").json()["itemsTotal"] == 0  # the failed bulk wrote nothing
    assert meta.delete(f"{path}/index/{made['id']}").status_code == 200
    assert meta.post(f"{path}/content/bulk", json={"items": [{"key": "a"}, {"key": "a"}]}).status_code == 200


def test_an_index_on_a_missing_column_is_refused(meta: httpx.Client) -> None:
    table = create_table(meta)

    response = meta.post(f"{WS}/table/{table['id']}/index/btree", json={"fields": [{"name": "nope", "op": "asc"}]})

    assert response.status_code == 400


def test_index_put_replaces_all_indexes(meta: httpx.Client) -> None:
    table = create_table(meta)
    body = {"index": [{"type": "primary", "fields": [{"name": "id"}]},
                      {"type": "btree", "fields": [{"name": "created_at", "op": "desc"}]}]}

    assert meta.put(f"{WS}/table/{table['id']}/index", json=body).status_code == 200
    assert [i["type"] for i in meta.get(f"{WS}/table/{table['id']}/index").json()] == ["primary", "btree"]


# ---- content -----------------------------------------------------------------------------------------------------


def test_content_bulk_browse_search_and_truncate(meta: httpx.Client) -> None:
    table = create_table(meta)
    path = f"{WS}/table/{table['id']}"
    items = [{"session_id": f"s{n}", "user_id": "u1" if n < 3 else "u2"} for n in range(5)]

    ids = meta.post(f"{path}/content/bulk", json={"items": items, "allow_id_field": False},
                    headers={"x-data-source": "live"}).json()
    page = meta.get(f"{path}/content", params={"per_page": 2}).json()
    found = meta.post(f"{path}/content/search", json={"search": {"user_id": "u2"}, "page": 1, "per_page": 50}).json()

    assert ids == [1, 2, 3, 4, 5]
    assert {k: v for k, v in page.items() if k != "items"} == {
        "itemsReceived": 2, "curPage": 1, "nextPage": 2, "prevPage": None, "offset": 0, "perPage": 2,
        "itemsTotal": 5, "pageTotal": 3}
    assert page["items"][0]["status"] == "active" and isinstance(page["items"][0]["created_at"], int)
    assert [row["session_id"] for row in found["items"]] == ["s3", "s4"]
    assert meta.request("DELETE", f"{path}/truncate", json={"reset": True}).status_code == 200
    assert meta.get(f"{path}/content").json()["itemsTotal"] == 0
    assert meta.post(f"{path}/content/bulk", json={"items": [{"session_id": "x", "user_id": "u"}]}).json() == [1]


# ---- API groups and endpoints ------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["name", "description", "swagger"])
def test_api_group_json_create_requires_name_description_and_swagger(meta: httpx.Client, missing: str) -> None:
    body = {key: value for key, value in {"name": "mcp", "description": "", "swagger": True}.items() if key != missing}

    response = meta.post(f"{WS}/apigroup", json=body)

    assert response.status_code == 400
    assert response.json()["message"] == f"Missing param: {missing}"


def test_api_group_gets_a_generated_canonical_and_is_listed(meta: httpx.Client) -> None:
    group = create_group(meta)

    listed = meta.get(f"{WS}/apigroup").json()

    assert len(group["canonical"]) == 8 and set(group["canonical"]) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    assert {g["canonical"] for g in listed["items"]} == {group["canonical"], "e6emygx3"}
    assert listed["nextPage"] is None


def test_api_group_from_xanoscript_keeps_its_canonical_which_must_be_unique(meta: httpx.Client) -> None:
    document = 'api_group mcp {\n  canonical = "mcpdeploy-core"\n  swagger = {active: true}\n}\n'

    first = meta.post(f"{WS}/apigroup", content=document, headers=XS)
    second = meta.post(f"{WS}/apigroup", content=document.replace("mcp {", "other {"), headers=XS)

    assert first.json()["canonical"] == "mcpdeploy-core"
    assert second.status_code == 400


def test_json_api_create_is_an_empty_shell_that_answers_null(meta: httpx.Client, sandbox: Sandbox) -> None:
    group = create_group(meta)
    body = {"name": "mcp_sessions", "description": "", "verb": "POST", "xanoscript": API_MCP_SESSIONS_POST}

    api = meta.post(f"{WS}/apigroup/{group['id']}/api", json=body).json()
    read = meta.get(f"{WS}/apigroup/{group['id']}/api/{api['id']}", params={"include_xanoscript": "true"}).json()
    served = httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE).post(
        f"/api:{group['canonical']}/mcp_sessions", json={"session_id": "s1"})

    assert api["input"] == []
    assert "db.add" not in read["xanoscript"]["value"]
    assert (served.status_code, served.json()) == (200, None)


def test_xanoscript_api_create_update_and_list(meta: httpx.Client) -> None:
    create_table(meta)
    group = create_group(meta)
    apis = f"{WS}/apigroup/{group['id']}/api"

    created = meta.post(apis, content=API_MCP_SESSIONS_GET, headers=XS, params={"include_xanoscript": "true"}).json()
    updated_text = API_MCP_SESSIONS_GET.replace("Session not found", "No such session")
    put = meta.put(f"{apis}/{created['id']}", content=updated_text, headers=XS, params={"publish": "true"})
    listed = meta.get(apis, params={"include_xanoscript": "true"}).json()

    assert (created["name"], created["verb"]) == ("mcp_sessions/{session_id}", "GET")
    assert created["xanoscript"]["value"] == API_MCP_SESSIONS_GET_ECHOED
    assert [i["name"] for i in created["input"]] == ["session_id"]
    assert put.status_code == 200
    assert [a["xanoscript"]["value"] for a in listed["items"]] == [
        API_MCP_SESSIONS_GET_ECHOED.replace("Session not found", "No such session")]
    assert "xanoscript" not in meta.get(apis).json()["items"][0]


def test_unpublished_update_is_a_draft(meta: httpx.Client) -> None:
    create_table(meta)
    group = create_group(meta)
    api = meta.post(f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS).json()
    path = f"{WS}/apigroup/{group['id']}/api/{api['id']}"
    draft = API_MCP_SESSIONS_GET.replace("Session not found", "draft")

    meta.put(path, content=draft, headers=XS, params={"publish": "false"})

    assert meta.get(path, params={"include_xanoscript": "true"}).json()["xanoscript"]["value"] == (
        API_MCP_SESSIONS_GET_ECHOED)
    assert meta.get(path, params={"include_xanoscript": "true", "include_draft": "true"}).json()[
        "xanoscript"]["value"] == API_MCP_SESSIONS_GET_ECHOED.replace("Session not found", "draft")


def test_patch_on_an_api_is_404_and_delete_removes_it(meta: httpx.Client) -> None:
    create_table(meta)
    group = create_group(meta)
    api = meta.post(f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS).json()
    path = f"{WS}/apigroup/{group['id']}/api/{api['id']}"

    patched = meta.patch(path, json={"description": "x"})

    assert patched.status_code == 404
    assert patched.json() == {"code": "ERROR_CODE_NOT_FOUND", "message": "Unable to locate request."}
    assert meta.delete(path).status_code == 200
    assert meta.get(path).status_code == 404


def test_an_endpoint_on_a_table_that_does_not_exist_yet_is_refused(meta: httpx.Client) -> None:
    group = create_group(meta)

    response = meta.post(f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS)

    assert response.status_code == 400
    assert "mcp_sessions" in response.json()["message"]


def test_a_rejected_document_is_a_syntax_error_naming_the_line(meta: httpx.Client) -> None:
    group = create_group(meta)
    one_line = 'query "x" verb=GET { input { text a } stack { } response = null }\n'

    for path, document in ((f"{WS}/apigroup/{group['id']}/api", one_line),
                           (f"{WS}/table", "table t {\n  schema {\n    string name\n  }\n}\n")):
        response = meta.post(path, content=document, headers=XS)
        assert response.status_code == 400
        assert response.json()["code"] == "ERROR_CODE_SYNTAX_ERROR"
        assert "line" in response.json()["message"]


# ---- persistence and faults --------------------------------------------------------------------------------------


def test_state_survives_a_new_sandbox_on_the_same_folder(tmp_path: Path) -> None:
    create_table(client_for(Sandbox(tmp_path)))

    later = client_for(Sandbox(tmp_path)).get(f"{WS}/table", params={"search": "mcp"}).json()

    assert [t["name"] for t in later["items"]] == ["mcp_sessions"]


def test_an_injected_429_carries_retry_after(sandbox: Sandbox, meta: httpx.Client) -> None:
    sandbox.add_fault(Fault(match="/api:meta/", status=429, retry_after=1))

    limited = meta.get(f"{WS}/table")

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["code"] == "ERROR_CODE_TOO_MANY_REQUESTS"
    assert meta.get(f"{WS}/table").status_code == 200
