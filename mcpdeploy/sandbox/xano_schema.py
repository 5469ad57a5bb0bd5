"""Table schemas and indexes in Xano's JSON shapes: built from XanoScript or JSON bodies, validated, rendered back.

Field JSON is the documented shape of GET .../schema: name, type, description, nullable, required, default (always
a string, "" = no default), access, sensitive, style, plus validators / values / children / tableref_id when they
apply. See xano_state.py for the index type vocabulary.
"""

from __future__ import annotations

from typing import Any

from mcpdeploy.sandbox.xano_errors import input_error, missing_param
from mcpdeploy.xanoscript.lexer import Expr
from mcpdeploy.xanoscript.reader import FieldDecl, IndexDecl, QueryDocument, TableDocument
from mcpdeploy.xanoscript.writer import write_table

# The PUT-schema type enum of Xano's spec.
SCHEMA_TYPES = frozenset({
    "attachment", "audio", "bool", "date", "decimal", "email", "enum", "geo_linestring", "geo_multilinestring",
    "geo_multipoint", "geo_multipolygon", "geo_point", "geo_polygon", "image", "int", "json", "object", "password",
    "text", "timestamp", "uuid", "vector", "video",
})
# POST schema/type/{type}: the schema types plus the two foreign-key spellings, stored as int/uuid + tableref_id.
ADD_COLUMN_TYPES = SCHEMA_TYPES | {"tableref", "tablerefuuid"}
INDEX_TYPES = frozenset({"primary", "btree", "btree|unique", "search", "spatial", "vector", "gin"})
_TEXTUAL = frozenset({"text", "email", "password"})


def field_json(name: str, field_type: str, *, nullable: bool = False, required: bool = False, default: Any = "",
               description: str = "", style: str = "single", sensitive: bool = False,
               access: str = "public") -> dict[str, Any]:
    return {"name": name, "type": field_type, "description": description, "nullable": nullable,
            "required": required, "default": default_text(default), "access": access, "sensitive": sensitive,
            "style": style}


def default_text(value: Any) -> str:
    """Xano keeps every default as a string; booleans as `true`/`false`, no default as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def default_fields() -> list[dict[str, Any]]:
    """The columns Xano gives a table created from a name only."""
    return [field_json("id", "int", required=True), field_json("created_at", "timestamp", default="now")]


def default_indexes() -> list[tuple[str, list[tuple[str, str]]]]:
    return [("primary", [("id", "asc")]), ("btree", [("created_at", "desc")])]


def fields_from_decls(decls: list[FieldDecl], table_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Field JSON for a XanoScript `schema` block; `table_ids` resolves `{ table = "user" }` references."""
    fields: list[dict[str, Any]] = []
    for decl in decls:
        entry = field_json(decl.name, decl.type, nullable=decl.nullable, required=not decl.optional,
                           default=decl.default if decl.has_default else "",
                           description=str(decl.attributes.get("description", "")),
                           style="list" if decl.is_list else "single",
                           sensitive=bool(decl.attributes.get("sensitive", False)),
                           access=str(decl.attributes.get("visibility", "public")))
        names = [name for name, _ in decl.filters]
        if decl.type in _TEXTUAL and names:
            entry["validators"] = {"trim": "trim" in names, "lower": "lower" in names}
        if decl.type == "enum":
            entry["values"] = list(decl.attributes.get("values", []))
        if decl.type == "object":
            entry["children"] = fields_from_decls(decl.children, table_ids)
        reference = decl.attributes.get("table")
        if reference is not None:
            if str(reference) not in table_ids:
                raise input_error(f"Line {decl.line}: column `{decl.name}` refers to table `{reference}`, "
                                  "which does not exist.")
            entry["tableref_id"] = table_ids[str(reference)]
        fields.append(entry)
    return fields


def indexes_from_decls(decls: list[IndexDecl]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(normalise_index_type(d.type), d.fields) for d in decls]


def normalise_index_type(raw: str) -> str:
    index_type = "btree|unique" if raw in ("btree|unique", "unique") else raw
    if index_type not in INDEX_TYPES:
        raise input_error(f"Unknown index type: {raw}")
    return index_type


def check_schema(schema: Any) -> list[dict[str, Any]]:
    """Validate a full schema (table create/PUT schema): PK first, known types, unique names. Returns field JSON."""
    if not isinstance(schema, list) or not schema:
        raise input_error("First schema entry must be the Primary key.")
    fields: list[dict[str, Any]] = []
    for position, entry in enumerate(schema):
        if not isinstance(entry, dict):
            raise input_error(f"Schema entry {position + 1} is not an object.")
        for key in ("name", "type"):
            if not entry.get(key):
                raise missing_param(f"schema.{position}.{key}")
        if position == 0 and (entry["name"] != "id" or entry["type"] not in ("int", "uuid")):
            raise input_error("First schema entry must be the Primary key.")
        if entry["type"] not in SCHEMA_TYPES:
            raise input_error(f"Invalid value for param: schema.{position}.type ({entry['type']})",
                              {"param": f"schema.{position}.type"})
        if any(existing["name"] == entry["name"] for existing in fields):
            raise input_error(f"Duplicate field name: {entry['name']}")
        fields.append(normalise_field(entry))
    return fields


def normalise_field(entry: dict[str, Any]) -> dict[str, Any]:
    """A JSON field body completed to the stored shape (unknown keys are dropped, like Xano's schema store)."""
    stored = field_json(str(entry["name"]), str(entry["type"]), nullable=bool(entry.get("nullable", False)),
                        required=bool(entry.get("required", False)), default=entry.get("default", ""),
                        description=str(entry.get("description") or ""), style=str(entry.get("style") or "single"),
                        sensitive=bool(entry.get("sensitive", False)), access=str(entry.get("access") or "public"))
    for extra in ("validators", "values", "children", "tableref_id", "vector", "format"):
        if entry.get(extra) is not None:
            stored[extra] = entry[extra]
    return stored


def check_index_fields(table: dict[str, Any], columns: Any) -> list[tuple[str, str]]:
    """`fields` of an index body, each naming a column of the table."""
    if not isinstance(columns, list) or not columns:
        raise missing_param("fields")
    names = {column["name"] for column in table["schema"]}
    checked: list[tuple[str, str]] = []
    for column in columns:
        name = column.get("name") if isinstance(column, dict) else None
        if name not in names:
            raise input_error(f"Index field `{name}` is not a column of table `{table['name']}`.")
        checked.append((str(name), str(column.get("op") or "asc")))
    return checked


# ---- XanoScript rendering ----------------------------------------------------------------------------------------


def table_document(table: dict[str, Any], table_names: dict[int, str] | None = None) -> TableDocument:
    """The stored table as the document Xano would regenerate its XanoScript from; `table_names` (id -> name)
    names the tables that `tableref_id` columns point at."""
    return TableDocument(name=str(table["name"]), text="", description=str(table.get("description") or ""),
                         auth=bool(table.get("auth")), tags=[str(tag) for tag in table.get("tag") or []],
                         fields=[_field_decl(field, table_names or {}) for field in table["schema"]],
                         indexes=[IndexDecl(str(index["type"]), [(str(c["name"]), str(c.get("op") or "asc"))
                                                                 for c in index["fields"]], 0)
                                  for index in table["index"]])


def render_table(table: dict[str, Any], table_names: dict[int, str] | None = None, guid: str | None = None) -> str:
    """The XanoScript of a table regenerated from its schema and indexes, laid out as Xano echoes it."""
    return write_table(table_document(table, table_names), guid=guid)


def _field_decl(field: dict[str, Any], table_names: dict[int, str]) -> FieldDecl:
    decl = FieldDecl(name=str(field["name"]), type=str(field["type"]), line=0, nullable=bool(field.get("nullable")),
                     optional=not field.get("required", False) and field["name"] != "id",
                     is_list=field.get("style") == "list")
    default = str(field.get("default") or "")
    if default != "" and field["name"] != "id":
        decl.default, decl.has_default = _typed_default(decl.type, default), True
    # The XanoScript echo carries a column's filters even where GET …/schema may not show them.
    validators = field.get("validators") or {}
    decl.filters = [(name, []) for name in ("trim", "lower") if isinstance(validators, dict) and validators.get(name)]
    if field.get("tableref_id") is not None and int(field["tableref_id"]) in table_names:
        decl.attributes["table"] = table_names[int(field["tableref_id"])]
    if decl.type == "enum":
        decl.attributes["values"] = list(field.get("values") or [])
    if (field.get("access") or "public") != "public":
        decl.attributes["visibility"] = str(field["access"])
    if field.get("sensitive"):
        decl.attributes["sensitive"] = True
    if field.get("description"):
        decl.attributes["description"] = str(field["description"])
    decl.children = [_field_decl(child, table_names) for child in field.get("children") or []
                     if isinstance(child, dict) and child.get("name") and child.get("type")]
    return decl


def _typed_default(column_type: str, text: str) -> Any:
    """A stored default (always text) as the value the echo shows: a number, a boolean, or the text."""
    if column_type == "bool" and text in ("true", "false"):
        return text == "true"
    if column_type in ("int", "decimal") and _is_number(text):
        number = float(text)
        return int(number) if column_type == "int" and number.is_integer() else number
    return text


def empty_query(name: str, verb: str, description: str = "") -> QueryDocument:
    """What an endpoint created from JSON holds: no input, no logic, a null response."""
    return QueryDocument(path=name, verb=verb, text="", description=description,
                         response=Expr("literal", value=None))


def render_empty_query(name: str, verb: str) -> str:
    """The text of an endpoint created from JSON, for the verbatim echo mode."""
    return (f"query {_xs_string(name)} verb={verb} {{\n  input {{\n  }}\n\n  stack {{\n  }}\n\n"
            "  response = null\n}\n")


def _xs_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
