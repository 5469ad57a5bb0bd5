"""A table's columns with their filters, whether or not Xano's `GET …/schema` carries them.

The schema PUT documents text filters as `validators`, but whether the schema GET answers with them is not known;
what Xano is known to echo is the table's XanoScript, whose columns carry `filters=trim|lower|max:50`. When the
GET answer has no `validators` on a text column, they are read from that echo instead, so planning sees the
filters that are there (no update planned on every run) and a schema PUT never drops a filter it does not manage
(a `max` set in Xano's UI stays).
"""

from __future__ import annotations

from typing import Any

from mcpdeploy.errors import ApiError
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.xanoscript.reader import FieldDecl, Grammar, TableDocument, XanoScriptSyntaxError, read_document

FILTERED_TYPES = frozenset({"text", "email", "password"})


def read_columns(client: XanoClient, table_id: int) -> list[dict[str, Any]]:
    columns = client.get_schema(table_id)
    if all("validators" in column for column in columns if column.get("type") in FILTERED_TYPES):
        return columns
    echoed = _echoed_filters(client, table_id)
    completed = []
    for column in columns:
        column = dict(column)
        if column.get("type") in FILTERED_TYPES and "validators" not in column:
            column["validators"] = echoed.get(str(column.get("name")), {})
        completed.append(column)
    return completed


def _echoed_filters(client: XanoClient, table_id: int) -> dict[str, dict[str, Any]]:
    table = client.get_table(table_id, include_xanoscript=True)
    script = table.get("xanoscript")
    text = script.get("value") if isinstance(script, dict) else script
    if not isinstance(text, str) or not text.strip():
        raise _unreadable(client, table_id, "it carries no XanoScript")
    try:
        document = read_document(text, Grammar.ECHO)
    except XanoScriptSyntaxError as exc:
        raise _unreadable(client, table_id, str(exc)) from None
    if not isinstance(document, TableDocument):
        raise _unreadable(client, table_id, "it is not a `table` document")
    return {decl.name: validators_of(decl) for decl in document.fields}


def validators_of(decl: FieldDecl) -> dict[str, Any]:
    """`filters=trim|max:50` as the schema's `validators`: `{"trim": true, "max": 50}`."""
    return {name: (args[0] if len(args) == 1 else args) if args else True for name, args in decl.filters}


def _unreadable(client: XanoClient, table_id: int, why: str) -> ApiError:
    return ApiError(
        service=client.service, method="GET", url=client.url(f"workspace/{client.workspace_id}/table/{table_id}"),
        status=200, code=None,
        detail=f"the schema carries no column filters and the table's XanoScript could not be read: {why}",
        hint="mcpdeploy reads column filters from either; without them it cannot tell whether filters match.",
    )
