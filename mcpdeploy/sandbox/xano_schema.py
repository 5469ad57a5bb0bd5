"""Table schemas and indexes in Xano's JSON shapes: built from XanoScript or JSON bodies, validated, rendered back.

Field JSON is the documented shape of GET .../schema: name, type, description, nullable, required, default (always
a string, "" = no default), access, sensitive, style, plus validators / values / children / tableref_id when they
apply. See xano_state.py for the index type vocabulary.
"""

from __future__ import annotations

from typing import Any

from mcpdeploy.sandbox.xano_errors import input_error, missing_param
from mcpdeploy.xanoscript.reader import FieldDecl, IndexDecl

# The PUT-schema type enum of Xano's spec.
SCHEMA_TYPES = frozenset({
    "attachment", "audio", "bool", "date", "decimal", "email", "enum", "geo_linestring", "geo_multilinestring",
    "geo_multipoint", "geo_multipolygon", "geo_point", "geo_polygon", "image", "int", "json", "object", "password",
    "text", "timestamp", "uuid", "vector", "video",
})
# POST schema/type/{type}: the schema types plus the two foreign-key spellings, stored as int/uuid + tableref_id.
ADD_COLUMN_TYPES = SCHEMA_TYPES | {"tableref", "tablerefuuid"}
INDEX_TYPES = frozenset({"primary", "btree", "unique", "search", "spatial", "vector", "gin"})
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
    index_type = "unique" if raw in ("btree|unique", "unique") else raw
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


def render_table(table: dict[str, Any]) -> str:
    """The XanoScript of a table, for include_xanoscript reads of tables changed through JSON."""
    lines = [f"table {_xs_name(table['name'])} {{", f"  auth = {'true' if table['auth'] else 'false'}"]
    if table["description"]:
        lines.append(f"  description = {_xs_string(table['description'])}")
    lines.append("  schema {")
    lines.extend(f"    {_render_field(field)}" for field in table["schema"])
    lines.append("  }")
    lines.append("")
    lines.append("  index = [")
    for index in table["index"]:
        xs_type = "btree|unique" if index["type"] == "unique" else index["type"]
        columns = ", ".join(f'{{name: {_xs_string(c["name"])}, op: {_xs_string(c["op"])}}}' for c in index["fields"])
        lines.append(f"    {{type: {_xs_string(xs_type)}, field: [{columns}]}}")
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _render_field(field: dict[str, Any]) -> str:
    text: str = str(field["type"]) + ("[]" if field.get("style") == "list" else "") + ("?" if field["nullable"] else "")
    text += " " + field["name"] + ("" if field["required"] else "?")
    if field["default"] != "":
        default = str(field["default"])
        literal = default if default in ("now", "true", "false") or _is_number(default) else _xs_string(default)
        text += "=" + literal
    validators = field.get("validators") or {}
    chosen = [name for name in ("trim", "lower") if validators.get(name)]
    if chosen:
        text += " filters=" + "|".join(chosen)
    return text


def render_empty_query(name: str, verb: str) -> str:
    """What an endpoint created from JSON holds: no input, no logic, a null response."""
    return (f"query {_xs_string(name)} verb={verb} {{\n  input {{\n  }}\n\n  stack {{\n  }}\n\n"
            "  response = null\n}\n")


def _xs_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _xs_name(name: str) -> str:
    return name if name.replace("_", "").isalnum() else _xs_string(name)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
