"""Desired state: the tables, fields, indexes and endpoints the schema files declare.

`SchemaFile` is the layout of one `schemas/*.toml` file (`mcpdeploy schema json-schema` prints its JSON Schema for
editors); the loader turns the files into one `Spec`. Checks that span several entries (duplicate fields, indexes
and endpoints naming fields that exist) live in `problems.py`, so the loader can point at the offending line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator, model_validator

FieldType = Literal["text", "int", "json", "timestamp", "decimal", "bool", "email", "uuid", "date"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
FieldFilter = Literal["trim", "lower"]  # what both XanoScript and the schema PUT (`validators`) can carry
IndexType = Literal["btree", "unique"]
Verb = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Operation = Literal["create", "get", "update"]
# What an endpoint stores when the request leaves an input out.
Fallback = Literal["now", "client_ip"]

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
PATH = re.compile(r"^[a-z0-9_]+(/(\{[a-z_][a-z0-9_]*\}|[a-z0-9_]+))*$")
# Columns Xano adds to every table by itself; never removed, never retyped.
XANO_AUTO_FIELDS = ("id", "created_at")
ID_TYPES = ("int", "uuid")
_TEXT_TYPES = ("text", "email")
_TIME_TYPES = ("timestamp", "date")

DefaultValue = str | int | float | bool
# For editors only: the validators below give friendlier messages than a pattern mismatch would.
_NAME_PATTERN: dict[str, Any] = {"pattern": IDENTIFIER.pattern}


class SpecValueError(ValueError):
    """A validation failure that belongs to one key of the entry, so the loader can point at that key's line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_identifier(kind: str, value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{kind} name {value!r} must be lower-case letters, digits and underscores")
    return value


class FieldSpec(_Strict):
    """One column. `required`: a create must give it; `nullable`: it may hold null; a default makes it optional."""

    name: str = Field(
        description="Column name: lower-case letters, digits and underscores.", json_schema_extra=_NAME_PATTERN
    )
    type: FieldType = Field(description="Xano column type.")
    required: StrictBool = Field(default=False, description="A value must be given when a row is created.")
    nullable: StrictBool = Field(default=False, description="The column accepts null.")
    default: DefaultValue | None = Field(
        default=None,
        description='Value used when none is given. "now" for a timestamp or date set when the row is written.',
    )
    filters: tuple[FieldFilter, ...] = Field(default=(), description="Input filters Xano applies (text, email).")
    description: str = Field(default="", description="Shown in Xano next to the column.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_identifier("field", v)

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.required and self.default is not None:
            raise SpecValueError("default", f"field {self.name!r} has a default, so it cannot also be required")
        if self.default is not None:
            problem = _default_problem(self.type, self.default)
            if problem:
                raise SpecValueError("default", f"field {self.name!r}: {problem}")
        if self.filters and self.type not in _TEXT_TYPES:
            raise SpecValueError("filters", f"field {self.name!r}: filters apply to text and email fields only")
        return self


def _default_problem(field_type: str, default: DefaultValue) -> str | None:
    """Why `default` cannot be the default of a `field_type` column (None when it can)."""
    if field_type in _TIME_TYPES:
        return None if default == "now" else f'a {field_type} default can only be "now"'
    if field_type in _TEXT_TYPES:
        return None if isinstance(default, str) else f"a {field_type} default must be a string"
    if field_type == "int":
        ok = isinstance(default, int) and not isinstance(default, bool)
        return None if ok else "an int default must be a whole number"
    if field_type == "decimal":
        ok = isinstance(default, int | float) and not isinstance(default, bool)
        return None if ok else "a decimal default must be a number"
    if field_type == "bool":
        return None if isinstance(default, bool) else "a bool default must be true or false"
    return f"a {field_type} field cannot have a default"


class IndexFieldSpec(_Strict):
    name: str = Field(description="A field of the table.")
    op: Literal["asc", "desc"] = Field(default="asc", description="Sort order of the index.")


def _plain_name(value: object) -> object:
    # `fields = ["session_id"]` is the short form of `fields = [{name = "session_id"}]`.
    return {"name": value} if isinstance(value, str) else value


IndexField = Annotated[IndexFieldSpec, BeforeValidator(_plain_name, json_schema_input_type=str | IndexFieldSpec)]


class IndexSpec(_Strict):
    type: IndexType = Field(description="btree, or unique (a unique btree index).")
    fields: tuple[IndexField, ...] = Field(
        min_length=1, description='Indexed fields: names, or {name = "...", op = "desc"}.'
    )

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.type, tuple((f.name, f.op) for f in self.fields)


class EndpointSpec(_Strict):
    """One REST endpoint in the API group. `path` is Xano's endpoint name, e.g. `mcp_sessions/{session_id}`."""

    verb: Verb
    path: str = Field(
        description="Route inside the API group, e.g. things or things/{thing_id}.",
        json_schema_extra={"pattern": PATH.pattern},
    )
    operation: Operation = Field(description="create: add a row; get: one row or 404; update: edit one row or 404.")
    table: str | None = Field(default=None, description="The table it works on; defaults to the table of the file.")
    lookup: str | None = Field(
        default=None, description="get/update: the field the row is found by; must be the path parameter."
    )
    inputs: tuple[str, ...] = Field(
        default=(),
        description="Fields the request may set. A create that lists none in its schema file takes every field "
        "but id and the touched ones.",
    )
    touch: tuple[str, ...] = Field(default=(), description="Timestamp fields set to now on every call.")
    fallback: dict[str, Fallback] = Field(
        default_factory=dict,
        description='Value stored when the request leaves an input out: "now" or "client_ip" (the caller\'s IP). '
        'Inputs whose field defaults to "now" fall back to now without this.',
    )
    description: str = Field(default="", description="Shown in Xano next to the endpoint.")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        v = v.strip("/")
        if not PATH.match(v):
            raise ValueError(f"endpoint path {v!r} must look like `things` or `things/{{thing_id}}`")
        return v

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{([a-z_][a-z0-9_]*)\}", self.path))

    @property
    def key(self) -> tuple[str, str]:
        return self.verb, self.path

    def __hash__(self) -> int:
        # `fallback` is a dict, which the generated frozen-model hash cannot hash; the route identifies it.
        return hash(self.key)

    @model_validator(mode="after")
    def _operation_shape(self) -> EndpointSpec:
        where = f"{self.verb} {self.path}"
        if self.operation == "create":
            if self.path_params:
                raise SpecValueError("path", f"{where}: a create endpoint takes no path parameter")
            if self.lookup:
                raise SpecValueError("lookup", f"{where}: a create endpoint has no lookup")
            return self
        if not self.lookup:
            raise SpecValueError("lookup", f"{where}: a {self.operation} endpoint needs `lookup`")
        if self.path_params != (self.lookup,):
            raise SpecValueError(
                "lookup", f"{where}: lookup {self.lookup!r} must be the path's one parameter ({{{self.lookup}}})"
            )
        if self.operation == "get" and (self.inputs or self.touch or self.fallback):
            key = "inputs" if self.inputs else "touch" if self.touch else "fallback"
            raise SpecValueError(key, f"{where}: a get endpoint changes nothing, so it takes no `{key}`")
        return self


class TableHeader(_Strict):
    name: str = Field(
        description="Table name: lower-case letters, digits and underscores.", json_schema_extra=_NAME_PATTERN
    )
    description: str = Field(default="", description="Shown in Xano next to the table.")
    record: str = Field(
        default="record",
        description="What one row is called in the generated endpoints ($session, \"Session not found\").",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_identifier("table", v)

    @field_validator("record")
    @classmethod
    def _record(cls, v: str) -> str:
        return _check_identifier("record", v)


class SchemaFile(_Strict):
    """The layout of one `schemas/*.toml` file: one table, its fields and indexes, and endpoints."""

    table: TableHeader
    fields: tuple[FieldSpec, ...] = Field(
        min_length=1,
        description="Columns in order. `id` (int) and `created_at` (timestamp, default now) are added by Xano when "
        "left out; `id` may be declared first as int or uuid.",
    )
    indexes: tuple[IndexSpec, ...] = ()
    endpoints: tuple[EndpointSpec, ...] = ()


class TableSpec(_Strict):
    name: str
    description: str = ""
    record: str = "record"
    fields: tuple[FieldSpec, ...]
    indexes: tuple[IndexSpec, ...] = ()
    endpoints: tuple[EndpointSpec, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_identifier("table", v)

    @model_validator(mode="after")
    def _whole(self) -> TableSpec:
        for problem in table_problems(self):
            raise ValueError(problem.message)
        return self

    @property
    def columns(self) -> tuple[FieldSpec, ...]:
        """Every column Xano will hold, in order: the declared fields plus the `id` and `created_at` it adds."""
        declared = {f.name for f in self.fields}
        implicit: list[FieldSpec] = []
        if "id" not in declared:
            implicit.append(FieldSpec(name="id", type="int", required=True))
        if "created_at" not in declared:
            implicit.append(FieldSpec(name="created_at", type="timestamp", default="now"))
        if not implicit:
            return self.fields
        head = self.fields[:1] if self.fields[0].name == "id" else ()
        return (*head, *implicit, *self.fields[len(head):])

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.columns if f.name == name), None)


class Spec(_Strict):
    """Everything the schema files declare, checked as a whole (endpoints point at real tables and fields)."""

    tables: tuple[TableSpec, ...]

    @model_validator(mode="after")
    def _whole(self) -> Spec:
        for problem in spec_problems(self.tables):
            raise ValueError(problem.message)
        return self

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)

    @property
    def endpoints(self) -> tuple[EndpointSpec, ...]:
        return tuple(e for t in self.tables for e in t.endpoints)

    def table_of(self, endpoint: EndpointSpec) -> TableSpec:
        """The table an endpoint works on: its `table`, else the table that declares it."""
        name = endpoint.table or next((t.name for t in self.tables if endpoint in t.endpoints), None)
        table = self.table(name) if name else None
        if table is None:
            raise LookupError(f"{endpoint.verb} {endpoint.path}: no table {name!r} in the spec")
        return table


# Checks that span several entries of the schemas: duplicates, and names that must point at declared fields. Each
# problem carries its location in schema-file coordinates (`("fields", 2, "name")`, `("endpoints", 0, "inputs",
# 1)`), so the loader can name the exact line, and the models above raise the same problems when built in code.

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
