"""Checks that span several entries of the schemas: duplicates, and names that must point at declared fields.

Each problem carries its location in schema-file coordinates (`("fields", 2, "name")`, `("endpoints", 0, "inputs",
1)`), so the loader can name the exact line, and the models raise the same problems when built in code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mcpdeploy.spec.models import ID_TYPES, EndpointSpec, FieldSpec, IndexSpec, TableSpec

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    table_index: int = 0  # which table (schema file) of the spec the location is in
    first: tuple[int, Loc] | None = None  # for duplicates: (table index, location) of the first declaration


class _FieldsAndIndexes(Protocol):
    @property
    def fields(self) -> tuple[FieldSpec, ...]: ...

    @property
    def indexes(self) -> tuple[IndexSpec, ...]: ...


def table_problems(table: _FieldsAndIndexes) -> Iterator[Problem]:
    """Problems inside one table: fields declared twice, a misplaced or mistyped `id`, indexes on unknown fields."""
    first_at: dict[str, int] = {}
    for i, field in enumerate(table.fields):
        if field.name in first_at:
            yield Problem(("fields", i, "name"), f"field {field.name!r} is declared twice",
                          first=(0, ("fields", first_at[field.name], "name")))
            continue
        first_at[field.name] = i
        yield from _auto_field_problems(i, field)
    implicit = [name for name in ("id", "created_at") if name not in first_at]
    names = [*implicit, *first_at]
    seen_keys: dict[object, int] = {}
    for i, index in enumerate(table.indexes):
        for j, part in enumerate(index.fields):
            if part.name not in names:
                yield Problem(("indexes", i, "fields", j),
                              f"index on unknown field {part.name!r} (fields: {', '.join(names)})")
        if index.key in seen_keys:
            yield Problem(("indexes", i), "this index is declared twice",
                          first=(0, ("indexes", seen_keys[index.key])))
        seen_keys.setdefault(index.key, i)


def _auto_field_problems(i: int, field: FieldSpec) -> Iterator[Problem]:
    if field.name == "id":
        if i != 0:
            yield Problem(("fields", i, "name"), "`id` must be the first field (or left out: Xano adds it)")
        if field.type not in ID_TYPES:
            yield Problem(("fields", i, "type"), f"`id` must be of type int or uuid, not {field.type}")
        for key in ("nullable", "default", "filters"):
            if getattr(field, key):
                yield Problem(("fields", i, key), f"`id` is the primary key: it takes no `{key}`")
    elif field.name == "created_at" and field.type != "timestamp":
        yield Problem(("fields", i, "type"), f"`created_at` is set by Xano and must be a timestamp, not {field.type}")


def spec_problems(tables: Sequence[TableSpec]) -> Iterator[Problem]:
    """Problems across tables: a table declared twice, endpoints on unknown tables or fields, duplicate routes."""
    first_table: dict[str, int] = {}
    for t, table in enumerate(tables):
        if table.name in first_table:
            yield Problem(("table", "name"), f"table {table.name!r} is declared twice", t,
                          first=(first_table[table.name], ("table", "name")))
        first_table.setdefault(table.name, t)
    first_route: dict[tuple[str, str], tuple[int, Loc]] = {}
    for t, table in enumerate(tables):
        for e, endpoint in enumerate(table.endpoints):
            where: Loc = ("endpoints", e)
            if endpoint.key in first_route:
                yield Problem((*where, "path"), f"endpoint {endpoint.verb} /{endpoint.path} is declared twice", t,
                              first=first_route[endpoint.key])
            first_route.setdefault(endpoint.key, (t, (*where, "path")))
            target_name = endpoint.table or table.name
            if target_name not in first_table:
                known = ", ".join(first_table)
                yield Problem((*where, "table"), f"endpoint {endpoint.verb} /{endpoint.path} works on table "
                              f"{target_name!r}, which no schema file declares (tables: {known})", t)
                continue
            target = tables[first_table[target_name]]
            for loc, message in _endpoint_problems(endpoint, target):
                yield Problem((*where, *loc), message, t)


def _endpoint_problems(endpoint: EndpointSpec, table: TableSpec) -> Iterator[tuple[Loc, str]]:
    columns = {f.name: f for f in table.columns}
    route = f"{endpoint.verb} /{endpoint.path}"

    def unknown(name: str) -> str:
        return f"{route}: table {table.name} has no field {name!r} (fields: {', '.join(columns)})"

    if endpoint.lookup and endpoint.lookup not in columns:
        yield ("lookup",), unknown(endpoint.lookup)
    for j, name in enumerate(endpoint.inputs):
        if name not in columns:
            yield ("inputs", j), unknown(name)
        elif name == "id":
            yield ("inputs", j), f"{route}: `id` is set by Xano and cannot be an input"
        elif name == endpoint.lookup:
            yield ("inputs", j), f"{route}: {name!r} already comes from the path"
        elif name in endpoint.inputs[:j]:
            yield ("inputs", j), f"{route}: input {name!r} is listed twice"
    for j, name in enumerate(endpoint.touch):
        if name not in columns:
            yield ("touch", j), unknown(name)
        elif columns[name].type not in ("timestamp", "date"):
            kind = columns[name].type
            yield ("touch", j), f"{route}: only timestamp and date fields can be touched; {name} is {kind}"
        elif name in endpoint.inputs:
            yield ("touch", j), f"{route}: {name!r} is both an input and touched; keep one"
    for name, value in endpoint.fallback.items():
        if name not in endpoint.inputs:
            yield ("fallback", name), f"{route}: fallback for {name!r}, which is not among the inputs"
        elif value == "now" and columns[name].type not in ("timestamp", "date"):
            yield ("fallback", name), f'{route}: fallback "now" needs a timestamp or date field; {name} is not'
        elif value == "client_ip" and columns[name].type != "text":
            yield ("fallback", name), f'{route}: fallback "client_ip" needs a text field; {name} is not'
    if endpoint.operation == "create":
        given = {*endpoint.inputs, *endpoint.touch}
        for field in table.fields:
            if field.required and field.name != "id" and field.name not in given:
                yield ("inputs",), f"{route}: required field {field.name!r} is not among the inputs"
