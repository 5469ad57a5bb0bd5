"""Desired state: the tables, fields, indexes and endpoints the schema files declare.

These models are the schema file format itself (`mcpdeploy schema-json` prints their JSON Schema for editors).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal["text", "int", "json", "timestamp", "decimal", "bool", "email", "uuid", "date"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
FieldFilter = Literal["trim", "lower", "upper"]
IndexType = Literal["btree", "unique"]
Verb = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Operation = Literal["create", "get", "update"]

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
PATH = re.compile(r"^[a-z0-9_]+(/(\{[a-z_][a-z0-9_]*\}|[a-z0-9_]+))*$")
# Columns Xano adds to every table by itself; never removed, never retyped.
XANO_AUTO_FIELDS = ("id", "created_at")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One column. A field with a default is optional; `nullable` allows an explicit null."""

    name: str = Field(description="Column name: lower-case letters, digits and underscores.")
    type: FieldType = Field(description="Xano column type.")
    required: bool = Field(default=False, description="A value must be given when a row is created.")
    nullable: bool = Field(default=False, description="The column accepts null.")
    default: str | int | float | bool | None = Field(
        default=None, description='Default value; "now" for a timestamp set at insert time.'
    )
    filters: tuple[FieldFilter, ...] = Field(default=(), description="Input filters applied by Xano.")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not IDENTIFIER.match(v):
            raise ValueError(f"field name {v!r} must match {IDENTIFIER.pattern}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.required and self.default is not None:
            raise ValueError(f"field {self.name!r} has a default, so it cannot also be required")
        if self.default == "now" and self.type not in ("timestamp", "date"):
            raise ValueError(f'field {self.name!r}: default "now" is only for timestamp and date fields')
        if self.filters and self.type not in ("text", "email"):
            raise ValueError(f"field {self.name!r}: filters apply to text and email fields only")
        return self


class IndexFieldSpec(_Strict):
    name: str
    op: Literal["asc", "desc"] = "asc"


class IndexSpec(_Strict):
    type: IndexType
    fields: tuple[IndexFieldSpec, ...] = Field(min_length=1)

    @field_validator("fields", mode="before")
    @classmethod
    def _plain_names(cls, v: object) -> object:
        # `fields = ["session_id"]` is the short form of `[{name = "session_id"}]`.
        if isinstance(v, list):
            return [{"name": item} if isinstance(item, str) else item for item in v]
        return v

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.type, tuple((f.name, f.op) for f in self.fields)


class EndpointSpec(_Strict):
    """One REST endpoint in the API group. `path` is Xano's endpoint name, e.g. `mcp_sessions/{session_id}`."""

    verb: Verb
    path: str
    operation: Operation = Field(description="create: add a row; get: one row or 404; update: edit one row or 404.")
    table: str | None = Field(default=None, description="Defaults to the table of the file.")
    lookup: str | None = Field(default=None, description="The field a get/update finds its row by (a path parameter).")
    inputs: tuple[str, ...] = Field(default=(), description="Fields the request may set (create/update).")
    touch: tuple[str, ...] = Field(default=(), description="Timestamp fields set to now on every call.")
    description: str = ""

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

    @model_validator(mode="after")
    def _operation_shape(self) -> EndpointSpec:
        if self.operation in ("get", "update"):
            if not self.lookup:
                raise ValueError(f"{self.verb} {self.path}: a {self.operation} endpoint needs `lookup`")
            if self.lookup not in self.path_params:
                raise ValueError(f"{self.verb} {self.path}: lookup {self.lookup!r} must be a path parameter")
        elif self.path_params:
            raise ValueError(f"{self.verb} {self.path}: a create endpoint takes no path parameter")
        return self


class TableSpec(_Strict):
    name: str
    description: str = ""
    fields: tuple[FieldSpec, ...]
    indexes: tuple[IndexSpec, ...] = ()
    endpoints: tuple[EndpointSpec, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not IDENTIFIER.match(v):
            raise ValueError(f"table name {v!r} must match {IDENTIFIER.pattern}")
        return v

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


class SchemaFile(_Strict):
    """The layout of one `schemas/*.toml` file."""

    table: TableHeader
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    indexes: tuple[IndexSpec, ...] = ()
    endpoints: tuple[EndpointSpec, ...] = ()


class TableHeader(_Strict):
    name: str
    description: str = ""


SchemaFile.model_rebuild()


class Spec(_Strict):
    """Everything the schema files declare, checked as a whole (endpoints point at real tables and fields)."""

    tables: tuple[TableSpec, ...]

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)

    @property
    def endpoints(self) -> tuple[EndpointSpec, ...]:
        return tuple(e for t in self.tables for e in t.endpoints)
