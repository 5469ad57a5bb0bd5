"""Metadata API handlers for tables, their schema and their indexes (`/workspace/{w}/table...`)."""

from __future__ import annotations

from typing import Any

from mcpdeploy.sandbox.xano_errors import XanoError, input_error, missing_param, not_found, syntax_error
from mcpdeploy.sandbox.xano_routing import MetaCall, Route, route
from mcpdeploy.sandbox.xano_rows import check_unique, reshape_rows
from mcpdeploy.sandbox.xano_schema import (
    ADD_COLUMN_TYPES,
    check_index_fields,
    check_schema,
    default_fields,
    default_indexes,
    fields_from_decls,
    indexes_from_decls,
    normalise_field,
    normalise_index_type,
    render_table,
)
from mcpdeploy.sandbox.xano_state import index_json, meta_timestamp, new_table, page_numbers, paged
from mcpdeploy.xanoscript.reader import TableDocument, XanoScriptSyntaxError, read_document

_TABLE_KEYS = ("id", "created_at", "updated_at", "name", "description", "docs", "guid", "auth", "tag")


def table_object(call: MetaCall, table: dict[str, Any], include_xanoscript: bool) -> dict[str, Any]:
    obj = {key: table[key] for key in _TABLE_KEYS}
    if include_xanoscript:
        obj["xanoscript"] = {"status": "ok", "value": table_echo(call, table), "message": ""}
    return obj


def table_echo(call: MetaCall, table: dict[str, Any]) -> str:
    """The table's XanoScript as Xano answers it: regenerated from the stored columns and indexes (what was sent
    is not kept), or, in the verbatim echo mode, the last document sent."""
    options = call.sandbox.options
    if options.xano_echo == "verbatim" and table["xanoscript"] is not None:
        return str(table["xanoscript"])
    names = {t["id"]: t["name"] for t in call.state["tables"].values() if t["workspace_id"] == table["workspace_id"]}
    guid = str(table["guid"]) if options.guid_on_save and options.xano_echo == "recorded" else None
    text = render_table(table, names, guid)
    return text if options.xano_echo == "recorded" else text + "\n"


def find_table(call: MetaCall) -> dict[str, Any]:
    workspace_id = call.workspace_id
    table = call.state["tables"].get(call.params["table_id"])
    if table is None or table["workspace_id"] != workspace_id:
        raise not_found("Unable to locate table.")
    found: dict[str, Any] = table
    return found


def read_table_document(call: MetaCall) -> TableDocument:
    try:
        document = read_document(call.request.text())
    except XanoScriptSyntaxError as exc:
        raise syntax_error(str(exc)) from None
    if not isinstance(document, TableDocument):
        raise input_error("This endpoint takes a `table` XanoScript document.")
    return document


def _check_unused_name(call: MetaCall, name: str, except_id: int | None = None) -> None:
    for table in call.state["tables"].values():
        if table["workspace_id"] == call.workspace_id and table["name"] == name and table["id"] != except_id:
            raise input_error(f"A table named `{name}` already exists.", {"param": "name"})


def _definition_from_document(call: MetaCall, document: TableDocument) -> tuple[list[Any], list[Any]]:
    """Schema (id first) and index JSON of a XanoScript table, checked like Xano's server does."""
    table_ids = {t["name"]: t["id"] for t in call.state["tables"].values() if t["workspace_id"] == call.workspace_id}
    fields = fields_from_decls(document.fields, table_ids)
    fields.sort(key=lambda f: f["name"] != "id")
    schema = check_schema(fields)
    shell = {"name": document.name, "schema": schema}
    indexes = [index_json(kind, check_index_fields(shell, [{"name": n, "op": op} for n, op in columns]))
               for kind, columns in indexes_from_decls(document.indexes)]
    if not any(index["type"] == "primary" for index in indexes):
        indexes.insert(0, index_json("primary", [("id", "asc")]))
    return schema, indexes


def _indexes_from_json(table: dict[str, Any], raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise input_error("Invalid value for param: index", {"param": "index"})
    indexes: list[dict[str, Any]] = []
    for entry in raw:
        if not isinstance(entry, dict) or "type" not in entry:
            raise missing_param("index.type")
        indexes.append(index_json(normalise_index_type(str(entry["type"])),
                                  check_index_fields(table, entry.get("fields", entry.get("field")))))
    return indexes


# ---- tables ------------------------------------------------------------------------------------------------------


def list_tables(call: MetaCall) -> Any:
    page, per_page = page_numbers(call.request.query.get("page"), call.request.query.get("per_page"))
    search = call.request.query.get("search", "").lower()
    sort = call.request.query.get("sort") or "name"
    if sort not in ("name", "created_at", "updated_at", "id"):
        raise input_error(f"Invalid value for param: sort ({sort})", {"param": "sort"})
    tables = [t for t in call.state["tables"].values()
              if t["workspace_id"] == call.workspace_id and search in t["name"].lower()]
    tables.sort(key=lambda t: (t[sort], t["id"]), reverse=call.request.query.get("order") == "desc")
    include = call.flag("include_xanoscript")
    return paged([table_object(call, t, include) for t in tables], page, per_page)


def create_table(call: MetaCall) -> Any:
    workspace_id = call.workspace_id
    if call.is_xanoscript():
        document = read_table_document(call)
        _check_unused_name(call, document.name)
        schema, indexes = _definition_from_document(call, document)
        table = new_table(call.state, workspace_id, document.name, schema, indexes, document.description,
                          xanoscript=document.text)
        table.update(auth=document.auth, tag=document.tags)
    else:
        body = call.json_body(accepts_xanoscript=True)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise missing_param("name")
        _check_unused_name(call, name)
        schema = check_schema(body["schema"]) if body.get("schema") else default_fields()
        shell = {"name": name, "schema": schema}
        indexes = (_indexes_from_json(shell, body["index"]) if body.get("index")
                   else [index_json(kind, columns) for kind, columns in default_indexes()])
        table = new_table(call.state, workspace_id, name, schema, indexes, str(body.get("description") or ""))
        table.update(docs=str(body.get("docs") or ""), auth=bool(body.get("auth")), tag=list(body.get("tag") or []))
    return table_object(call, table, call.flag("include_xanoscript"))


def get_table(call: MetaCall) -> Any:
    return table_object(call, find_table(call), call.flag("include_xanoscript"))


def replace_table(call: MetaCall) -> Any:
    table = find_table(call)
    if not call.is_xanoscript():
        body = call.json_body(accepts_xanoscript=True)
        return _apply_table_properties(call, table, body)
    document = read_table_document(call)
    _check_unused_name(call, document.name, except_id=table["id"])
    schema, indexes = _definition_from_document(call, document)
    _replace_definition(table, schema, indexes)
    table.update(name=document.name, description=document.description, auth=document.auth, tag=document.tags,
                 xanoscript=document.text, updated_at=meta_timestamp())
    return table_object(call, table, call.flag("include_xanoscript"))


def _apply_table_properties(call: MetaCall, table: dict[str, Any], body: dict[str, Any]) -> Any:
    if "name" in body:
        _check_unused_name(call, str(body["name"]), except_id=table["id"])
        table["name"] = str(body["name"])
    for key in ("description", "docs"):
        if key in body:
            table[key] = str(body[key] or "")
    if "auth" in body:
        table["auth"] = bool(body["auth"])
    if "tag" in body:
        table["tag"] = list(body["tag"] or [])
    if body.get("schema"):
        _replace_definition(table, check_schema(body["schema"]), table["index"])
    if body.get("index"):
        _replace_definition(table, table["schema"], _indexes_from_json(table, body["index"]))
    _touched(table)
    return table_object(call, table, call.flag("include_xanoscript"))


def update_table_meta(call: MetaCall) -> Any:
    table = find_table(call)
    _apply_table_properties(call, table, {k: v for k, v in call.json_body().items()
                                          if k in ("name", "description", "tag", "auth")})
    return {}


def delete_table(call: MetaCall) -> Any:
    table = find_table(call)
    del call.state["tables"][str(table["id"])]
    return {}


def _replace_definition(table: dict[str, Any], schema: list[Any], indexes: list[Any]) -> None:
    """Swap schema and indexes; existing rows lose removed columns and must satisfy the new unique indexes."""
    names = {field["name"] for field in schema}
    trial = dict(table, schema=schema, index=[i for i in indexes if all(c["name"] in names for c in i["fields"])],
                 rows=[])
    for row in table["rows"]:
        candidate = {k: v for k, v in row.items() if k in names}
        check_unique(trial, candidate)
        trial["rows"].append(candidate)
    table.update(schema=trial["schema"], index=trial["index"])
    reshape_rows(table)


def _touched(table: dict[str, Any]) -> None:
    """A change through JSON: the document last sent no longer describes the table."""
    table["xanoscript"] = None
    table["updated_at"] = meta_timestamp()


# ---- schema ------------------------------------------------------------------------------------------------------


def get_schema(call: MetaCall) -> Any:
    return [_column_view(call, field) for field in find_table(call)["schema"]]


def _column_view(call: MetaCall, field: dict[str, Any]) -> dict[str, Any]:
    """A column as GET …/schema answers it; without `validators` when the sandbox emulates a Xano that leaves
    them out (no capture shows whether it sends them)."""
    if call.sandbox.options.schema_validators:
        return dict(field)
    return {key: value for key, value in field.items() if key != "validators"}


def replace_schema(call: MetaCall) -> Any:
    table = find_table(call)
    body = call.json_body()
    if "schema" not in body:
        raise missing_param("schema")
    _replace_definition(table, check_schema(body["schema"]), table["index"])
    _touched(table)
    return {}


def _column(table: dict[str, Any], name: str) -> dict[str, Any]:
    for field in table["schema"]:
        if field["name"] == name:
            found: dict[str, Any] = field
            return found
    raise not_found(f"Unable to locate schema field `{name}` in table `{table['name']}`.")


def get_column(call: MetaCall) -> Any:
    return _column_view(call, _column(find_table(call), call.params["schema_name"]))


def delete_column(call: MetaCall) -> Any:
    table = find_table(call)
    column = _column(table, call.params["schema_name"])
    if column["name"] == "id":
        raise input_error("The primary key can not be deleted.")
    schema = [field for field in table["schema"] if field is not column]
    _replace_definition(table, schema, table["index"])
    _touched(table)
    return {}


def rename_column(call: MetaCall) -> Any:
    table = find_table(call)
    body = call.json_body()
    for key in ("old_name", "new_name"):
        if not body.get(key):
            raise missing_param(key)
    column = _column(table, str(body["old_name"]))
    new_name = str(body["new_name"])
    if any(field["name"] == new_name for field in table["schema"]):
        raise input_error(f"A column named `{new_name}` already exists.", {"param": "new_name"})
    if column["name"] == "id":
        raise input_error("The primary key can not be renamed.")
    for index in table["index"]:
        for entry in index["fields"]:
            if entry["name"] == column["name"]:
                entry["name"] = new_name
    reshape_rows(table, renamed={column["name"]: new_name})
    column["name"] = new_name
    _touched(table)
    return {}


def add_column(call: MetaCall) -> Any:
    column_type = call.params["type"]
    if column_type not in ADD_COLUMN_TYPES:
        raise not_found()
    table = find_table(call)
    body = call.json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise missing_param("name")
    if any(field["name"] == name for field in table["schema"]):
        raise input_error(f"A column named `{name}` already exists.", {"param": "name"})
    stored_type = {"tableref": "int", "tablerefuuid": "uuid"}.get(column_type, column_type)
    field = normalise_field({**body, "type": stored_type})
    filters = body.get("filters")
    if isinstance(filters, dict) and stored_type in ("text", "email", "password"):
        field["validators"] = {"trim": bool(filters.get("trim")), "lower": bool(filters.get("lower"))}
    table["schema"].append(field)
    reshape_rows(table)
    _touched(table)
    return {"name": name}


# ---- indexes -----------------------------------------------------------------------------------------------------


def get_indexes(call: MetaCall) -> Any:
    """Each index with its `op` on every field and a unique index typed `btree|unique`, as Xano's model has them."""
    return [{**index, "type": normalise_index_type(str(index["type"])),
             "fields": [{"name": c["name"], "op": c.get("op") or "asc"} for c in index["fields"]]}
            for index in find_table(call)["index"]]


def replace_indexes(call: MetaCall) -> Any:
    table = find_table(call)
    body = call.json_body()
    if "index" not in body:
        raise missing_param("index")
    _replace_definition(table, table["schema"], _indexes_from_json(table, body["index"]))
    _touched(table)
    return {}


def add_index(call: MetaCall) -> Any:
    index_type = call.params["type"]
    if index_type not in ("btree", "unique", "search", "spatial", "vector"):
        raise not_found()
    table = find_table(call)
    body = call.json_body()
    if index_type == "search":
        for key in ("name", "lang"):
            if not body.get(key):
                raise missing_param(key)
    index = index_json(normalise_index_type(index_type), check_index_fields(table, body.get("fields")))
    _replace_definition(table, table["schema"], [*table["index"], index])
    _touched(table)
    return {"id": index["id"]}


def delete_index(call: MetaCall) -> Any:
    table = find_table(call)
    remaining = [index for index in table["index"] if index["id"] != call.params["index_id"]]
    if len(remaining) == len(table["index"]):
        raise not_found("Unable to locate index.")
    table["index"] = remaining
    _touched(table)
    return {}


_T = "/workspace/{workspace_id}/table"
ROUTES: list[Route] = [
    route("GET", _T, list_tables),
    route("POST", _T, create_table),
    route("GET", _T + "/{table_id}", get_table),
    route("PUT", _T + "/{table_id}", replace_table),
    route("DELETE", _T + "/{table_id}", delete_table),
    route("PUT", _T + "/{table_id}/meta", update_table_meta),
    route("GET", _T + "/{table_id}/schema", get_schema),
    route("PUT", _T + "/{table_id}/schema", replace_schema),
    route("POST", _T + "/{table_id}/schema/rename", rename_column),
    route("POST", _T + "/{table_id}/schema/type/{type}", add_column),
    route("GET", _T + "/{table_id}/schema/{schema_name}", get_column),
    route("DELETE", _T + "/{table_id}/schema/{schema_name}", delete_column),
    route("GET", _T + "/{table_id}/index", get_indexes),
    route("PUT", _T + "/{table_id}/index", replace_indexes),
    route("POST", _T + "/{table_id}/index/{type}", add_index),
    route("DELETE", _T + "/{table_id}/index/{index_id}", delete_index),
]

__all__ = ["ROUTES", "XanoError", "find_table", "table_object"]
