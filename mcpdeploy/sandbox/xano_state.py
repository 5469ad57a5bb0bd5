"""The sandbox Xano's state (section "xano" of the sandbox state), shared by `xano_meta` and `xano_runtime`.

Layout (JSON only: dict keys that are ids are decimal strings):

    {
      "version": 1,
      "next_id": {"table": int, "apigroup": int, "api": int},
      "workspaces": {"1": {"id", "name", "description", "created_at", "branches": [{"label", "live", "backup",
                                                                                   "created_at"}]}},
      "tables": {"<id>": {"id", "workspace_id", "name", "description", "docs", "auth", "tag", "guid",
                          "created_at", "updated_at",
                          "xanoscript": str | None,   # the last XanoScript document sent; None once JSON changed it
                          "schema": [field JSON],     # as GET .../schema answers it (see `field_json`)
                          "index": [{"id", "type", "fields": [{"name", "op"}]}],
                          "rows": [row], "next_row_id": int}},
      "apigroups": {"<id>": {"id", "workspace_id", "name", "description", "docs", "guid", "canonical", "branch",
                             "tag", "swagger", "created_at", "updated_at", "xanoscript": str | None}},
      "apis": {"<id>": {"id", "apigroup_id", "name", "verb", "description", "docs", "guid", "tag", "input", "auth",
                        "cache", "created_at", "updated_at",
                        "xanoscript": str | None,        # published logic as sent; None = empty JSON-made shell
                        "draft_xanoscript": str | None}},  # PUT ?publish=false
      "api_keys": {"<sha256 of key>": user_id}         # runtime bearer keys; the key itself is never stored
    }

Metadata objects carry "YYYY-MM-DD HH:MM:SS+0000" timestamps; table rows carry epoch milliseconds, as Xano does.

Echoes: Xano keeps a model, not the text it is sent, and regenerates the XanoScript on every read; the sandbox keeps
the text sent only for its verbatim echo mode (SandboxOptions.xano_echo) and for running endpoints, and answers
`include_xanoscript=true` with the text written from the model (xano_schema.render_table, the writer).

Index types: `primary`, `btree`, `btree|unique`, `search`, `spatial`, `vector`, `gin`. A unique index is stored, and
read back by GET .../index, as `btree|unique`, Xano's own spelling; "unique" exists only as the path of
POST .../index/unique and is accepted as a type on input. Unique and primary indexes are enforced on every row write.
"""

from __future__ import annotations

__all__ = ["AUTH_CANONICAL", "REMOTE_IP", "SECTION", "content_page", "key_digest", "meta_timestamp", "new_api",
           "new_apigroup", "new_canonical", "new_table", "now_ms", "page_numbers", "paged", "table_by_name",
           "xano_state"]

import hashlib
import secrets
import string
import time
from typing import TYPE_CHECKING, Any

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.xano_errors import input_error
from mcpdeploy.sandbox.xano_rows import insert_row, now_ms
from mcpdeploy.sandbox.xano_schema import default_fields, field_json

if TYPE_CHECKING:
    from mcpdeploy.sandbox.messages import SandboxHost

SECTION = "xano"
AUTH_CANONICAL = "e6emygx3"
REMOTE_IP = "127.0.0.1"

AUTH_ME_XANOSCRIPT = """query "auth/me" verb=GET {
  auth = "user"
  description = "The user the bearer key belongs to"
  input {
  }

  stack {
    db.get user {
      field_name = "id"
      field_value = $auth.id
    } as $user
  }

  response = $user
}
"""


# ---- clocks and ids ----------------------------------------------------------------------------------------------


def meta_timestamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+0000", time.gmtime())


def new_guid() -> str:
    return secrets.token_urlsafe(20)[:27]


def new_canonical(state: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    taken = {group["canonical"] for group in state["apigroups"].values()}
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(8))
        if candidate not in taken and candidate != "meta":
            return candidate


def next_id(state: dict[str, Any], kind: str) -> int:
    value: int = state["next_id"][kind]
    state["next_id"][kind] = value + 1
    return value


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# ---- the section and its seed ------------------------------------------------------------------------------------


def xano_state(sandbox: SandboxHost) -> dict[str, Any]:
    """The "xano" section, seeded on first use with workspace 1, the `user` table and the Authentication group."""
    return sandbox.section(SECTION, _seed)


def _seed() -> dict[str, Any]:
    stamp = meta_timestamp()
    state: dict[str, Any] = {
        "version": 1,
        "next_id": {"table": 1, "apigroup": 1, "api": 1},
        "workspaces": {str(credentials.XANO_WORKSPACE_ID): {
            "id": credentials.XANO_WORKSPACE_ID, "name": "sandbox", "description": "mcpdeploy's local sandbox",
            "created_at": stamp,
            "branches": [{"label": "v1", "live": True, "backup": False, "created_at": stamp}],
        }},
        "tables": {}, "apigroups": {}, "apis": {}, "api_keys": {},
    }
    workspace = credentials.XANO_WORKSPACE_ID
    user_fields = [*default_fields(), field_json("name", "text"), field_json("email", "email")]
    table = new_table(state, workspace, "user", user_fields, [index_json("primary", [("id", "asc")])])
    table["auth"] = True
    group = new_apigroup(state, workspace, "Authentication", "Sign-up, log-in and who-am-I", AUTH_CANONICAL)
    new_api(state, group, "auth/me", "GET", "The user the bearer key belongs to", AUTH_ME_XANOSCRIPT)
    insert_row(table, dict(credentials.MCP_USER), allow_id=True)
    state["api_keys"][key_digest(credentials.MCP_API_KEY)] = credentials.MCP_USER["id"]
    return state


def index_json(index_type: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {"id": secrets.token_hex(4), "type": index_type, "fields": [{"name": n, "op": op} for n, op in columns]}


def new_table(state: dict[str, Any], workspace_id: int, name: str, schema: list[dict[str, Any]],
              indexes: list[dict[str, Any]], description: str = "", xanoscript: str | None = None) -> dict[str, Any]:
    stamp = meta_timestamp()
    table: dict[str, Any] = {
        "id": next_id(state, "table"), "workspace_id": workspace_id, "name": name, "description": description,
        "docs": "", "auth": False, "tag": [], "guid": new_guid(), "created_at": stamp, "updated_at": stamp,
        "schema": schema, "index": indexes, "rows": [], "next_row_id": 1,
    }
    table["xanoscript"] = xanoscript
    state["tables"][str(table["id"])] = table
    return table


def new_apigroup(state: dict[str, Any], workspace_id: int, name: str, description: str, canonical: str | None,
                 swagger: bool = True, xanoscript: str | None = None) -> dict[str, Any]:
    stamp = meta_timestamp()
    group: dict[str, Any] = {
        "id": next_id(state, "apigroup"), "workspace_id": workspace_id, "name": name, "description": description,
        "docs": "", "guid": new_guid(), "canonical": canonical or new_canonical(state), "branch": "v1", "tag": [],
        "swagger": swagger, "created_at": stamp, "updated_at": stamp, "xanoscript": xanoscript,
    }
    state["apigroups"][str(group["id"])] = group
    return group


def new_api(state: dict[str, Any], group: dict[str, Any], name: str, verb: str, description: str,
            xanoscript: str | None) -> dict[str, Any]:
    stamp = meta_timestamp()
    api: dict[str, Any] = {
        "id": next_id(state, "api"), "apigroup_id": group["id"], "name": name, "verb": verb,
        "description": description, "docs": "", "guid": new_guid(), "tag": [], "input": [], "auth": {},
        "cache": {"active": False, "ttl": 3600, "input": True, "auth": True, "datasource": True, "ip": False,
                  "headers": [], "env": []},
        "created_at": stamp, "updated_at": stamp, "xanoscript": xanoscript, "draft_xanoscript": None,
    }
    state["apis"][str(api["id"])] = api
    return api


def workspace_tables(state: dict[str, Any], workspace_id: int) -> list[dict[str, Any]]:
    return [t for t in state["tables"].values() if t["workspace_id"] == workspace_id]


def table_by_name(state: dict[str, Any], workspace_id: int, name: str) -> dict[str, Any] | None:
    for table in state["tables"].values():
        if table["workspace_id"] == workspace_id and table["name"] == name:
            found: dict[str, Any] = table
            return found
    return None


# ---- paging ------------------------------------------------------------------------------------------------------


def page_numbers(raw_page: Any, raw_per_page: Any, default_per_page: int = 50) -> tuple[int, int]:
    """Validated (page, per_page) from query or body values."""
    numbers: list[int] = []
    for name, raw, default in (("page", raw_page, 1), ("per_page", raw_per_page, default_per_page)):
        if raw is None or raw == "":
            numbers.append(default)
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise input_error(f"Value is not properly formed: {name}", {"param": name}) from None
        if value < 1:
            raise input_error(f"Value is too small: {name}", {"param": name})
        numbers.append(value)
    return numbers[0], numbers[1]


def paged(items: list[Any], page: int, per_page: int) -> dict[str, Any]:
    """The meta API's generic list envelope: `{curPage, nextPage, prevPage, items}`."""
    start = (page - 1) * per_page
    return {"curPage": page, "nextPage": page + 1 if start + per_page < len(items) else None,
            "prevPage": page - 1 if page > 1 else None, "items": items[start:start + per_page]}


def content_page(rows: list[Any], page: int, per_page: int) -> dict[str, Any]:
    """The content browse/search envelope, with totals."""
    envelope = paged(rows, page, per_page)
    total = len(rows)
    return {"items": envelope["items"], "itemsReceived": len(envelope["items"]), "curPage": page,
            "nextPage": envelope["nextPage"], "prevPage": envelope["prevPage"], "offset": (page - 1) * per_page,
            "perPage": per_page, "itemsTotal": total, "pageTotal": (total + per_page - 1) // per_page}
