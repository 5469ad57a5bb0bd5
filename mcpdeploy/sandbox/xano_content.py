"""Metadata API handlers for table content: browse, search, bulk create, truncate, and single records.

`x-data-source` is accepted and only `live` exists in the sandbox; another value is refused as Xano refuses an
unknown data source.
"""

from __future__ import annotations

from typing import Any

from mcpdeploy.sandbox.xano_errors import input_error, missing_param, not_found
from mcpdeploy.sandbox.xano_routing import MetaCall, Route, route
from mcpdeploy.sandbox.xano_rows import find_row, insert_row, search_rows, update_row
from mcpdeploy.sandbox.xano_state import content_page, page_numbers
from mcpdeploy.sandbox.xano_tables import find_table


def _content_table(call: MetaCall) -> dict[str, Any]:
    source = call.request.headers.get("x-data-source", "live") or "live"
    if source != "live":
        raise input_error(f"Unknown data source: {source}", {"param": "x-data-source"})
    return find_table(call)


def browse(call: MetaCall) -> Any:
    table = _content_table(call)
    page, per_page = page_numbers(call.request.query.get("page"), call.request.query.get("per_page"))
    return content_page(sorted(table["rows"], key=lambda r: r["id"]), page, per_page)


def search(call: MetaCall) -> Any:
    table = _content_table(call)
    body = call.json_body()
    page, per_page = page_numbers(body.get("page"), body.get("per_page"))
    rows = search_rows(sorted(table["rows"], key=lambda r: r["id"]), body.get("search"), body.get("sort"))
    return content_page(rows, page, per_page)


def bulk_create(call: MetaCall) -> Any:
    table = _content_table(call)
    body = call.json_body()
    items = body.get("items")
    if not isinstance(items, list):
        raise missing_param("items")
    allow_id = bool(body.get("allow_id_field", False))
    ids: list[Any] = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise input_error(f"items.{position} is not an object.", {"param": f"items.{position}"})
        data = item if allow_id else {k: v for k, v in item.items() if k != "id"}
        ids.append(insert_row(table, data, allow_id=allow_id)["id"])
    return ids


def truncate(call: MetaCall) -> Any:
    table = _content_table(call)
    body = call.json_body()
    if "reset" not in body:
        raise missing_param("reset")
    table["rows"] = []
    if body["reset"]:
        table["next_row_id"] = 1
    return {}


def create_record(call: MetaCall) -> Any:
    table = _content_table(call)
    return insert_row(table, {k: v for k, v in call.json_body().items() if k != "id"})


def _record(call: MetaCall) -> tuple[dict[str, Any], dict[str, Any]]:
    table = _content_table(call)
    row = find_row(table, "id", call.params["record_id"])
    if row is None:
        raise not_found("Unable to locate record.")
    return table, row


def get_record(call: MetaCall) -> Any:
    return dict(_record(call)[1])


def update_record(call: MetaCall) -> Any:
    table, row = _record(call)
    return update_row(table, row, call.json_body())


def delete_record(call: MetaCall) -> Any:
    table, row = _record(call)
    table["rows"] = [r for r in table["rows"] if r is not row]
    return None


_C = "/workspace/{workspace_id}/table/{table_id}"
ROUTES: list[Route] = [
    route("GET", _C + "/content", browse),
    route("POST", _C + "/content", create_record),
    route("POST", _C + "/content/search", search),
    route("POST", _C + "/content/bulk", bulk_create),
    route("GET", _C + "/content/{record_id}", get_record),
    route("PUT", _C + "/content/{record_id}", update_record),
    route("DELETE", _C + "/content/{record_id}", delete_record),
    route("DELETE", _C + "/truncate", truncate),
]
