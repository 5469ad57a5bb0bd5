"""XanoScript documents and Metadata-API JSON generated from the spec.

The documents follow what Xano's own parser accepts (Xano's XanoScript grammar): every block opens with `{`
and a newline and holds one member per line, `//` comments appear nowhere, a query has `input`, `stack` and
`response` and no `api_group` line (the group comes from the URL), a missing row is a 404 through `precondition`
with `error_type = "notfound"`, and `db.edit` gets a literal `data` object. Everything is generated from the
tables and endpoints of the spec, so a field added to a schema file appears in the documents.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcpdeploy.spec.models import DefaultValue, EndpointSpec, FieldSpec, IndexSpec, Spec, TableSpec
from mcpdeploy.xanoscript.lexer import quote

INDENT = "  "
_FALLBACK_EXPRESSIONS = {"now": "now", "client_ip": "$env.$remote_ip"}
# The variable holding the row an update finds before editing it.
_EXISTING = "existing"


def _literal(value: DefaultValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "now" if value == "now" else quote(value)


def _declaration(
    field: FieldSpec, *, optional: bool, default: DefaultValue | None, nullable: bool | None = None
) -> str:
    """`text? name?="x" filters=trim`: type (`?` = nullable), name (`?` = optional), `=default`, filters."""
    nullable = field.nullable if nullable is None else nullable
    line = f"{field.type}{'?' if nullable else ''} {field.name}{'?' if optional else ''}"
    if default is not None:
        line += f"={_literal(default)}"
    if field.filters:
        line += " filters=" + "|".join(field.filters)
    return line


def _block(header: str, members: list[str], depth: int) -> list[str]:
    """`header {`, the members one level deeper, `}`: never on one line (the parser rejects that)."""
    pad = INDENT * depth
    return [f"{pad}{header} {{", *(f"{INDENT * (depth + 1)}{m}" if m else "" for m in members), f"{pad}}}"]


# --- tables -----------------------------------------------------------------------------------------------------


def _column_lines(field: FieldSpec) -> list[str]:
    if field.name == "id":
        return [f"{field.type} id"]
    line = _declaration(field, optional=not field.required, default=field.default)
    if not field.description:
        return [line]
    return _block(line, [f"description = {quote(field.description)}"], 0)


def _index_line(index: IndexSpec) -> str:
    kind = "btree|unique" if index.type == "unique" else index.type
    parts = ", ".join(
        f"{{name: {quote(f.name)}, op: \"desc\"}}" if f.op == "desc" else f"{{name: {quote(f.name)}}}"
        for f in index.fields
    )
    return f"{{type: {quote(kind)}, field: [{parts}]}}"


def render_table(table: TableSpec) -> str:
    """The `table` document that creates the table with all its columns and indexes in one request."""
    members = ["auth = false"]
    if table.description:
        members.append(f"description = {quote(table.description)}")
    schema: list[str] = [line for field in table.columns for line in _column_lines(field)]
    members += _block("schema", schema, 0)
    members.append("")
    indexes = ['{type: "primary", field: [{name: "id"}]}', *(_index_line(i) for i in table.indexes)]
    members += ["index = [", *(INDENT + line for line in indexes), "]"]
    return "\n".join(_block(f"table {table.name}", members, 0)) + "\n"


# --- endpoints --------------------------------------------------------------------------------------------------


def _fallback(endpoint: EndpointSpec, field: FieldSpec) -> str | None:
    """What a create or update stores when the request leaves the input out (None: the input's own default)."""
    if field.name in endpoint.fallback:
        return _FALLBACK_EXPRESSIONS[endpoint.fallback[field.name]]
    if field.default == "now":
        return "now"
    if endpoint.operation == "update":
        return f"${_EXISTING}.{field.name}"
    return None


def _input_line(endpoint: EndpointSpec, field: FieldSpec) -> str:
    # An input with a fallback is declared nullable: Xano hands a left-out optional text input over as "" unless
    # it is nullable, and `|first_notnull:` does not fall back on "", so a PUT without `status` would blank it.
    if endpoint.operation == "update":
        # Every change is optional and has no default: what is left out keeps its stored value.
        return _declaration(field, optional=True, default=None, nullable=True)
    has_fallback = _fallback(endpoint, field) is not None
    default = None if has_fallback else field.default
    return _declaration(field, optional=has_fallback or not field.required, default=default,
                        nullable=True if has_fallback else None)


def _data_object(endpoint: EndpointSpec, table: TableSpec) -> list[str]:
    entries: list[tuple[str, str]] = []
    for name in endpoint.inputs:
        field = _field(table, name)
        fallback = _fallback(endpoint, field)
        entries.append((name, f"$input.{name}" + (f"|first_notnull:{fallback}" if fallback else "")))
    entries += [(name, "now") for name in endpoint.touch]
    width = max((len(name) for name, _ in entries), default=0)
    return _block("data =", [f"{name.ljust(width)}: {value}" for name, value in entries], 0)


def _field(table: TableSpec, name: str) -> FieldSpec:
    field = table.field(name)
    if field is None:  # the loader refuses such a spec; this guards specs built in code
        raise LookupError(f"table {table.name} has no field {name!r}")
    return field


def _find_or_404(table: TableSpec, lookup: str, variable: str) -> list[str]:
    found = _block(f"db.get {table.name}", [f"field_name = {quote(lookup)}", f"field_value = $input.{lookup}"], 0)
    found[-1] += f" as ${variable}"
    missing = f"{table.record.replace('_', ' ').capitalize()} not found"
    guard = _block(f"precondition (${variable} != null)", ['error_type = "notfound"', f"error = {quote(missing)}"], 0)
    return [*found, "", *guard]


def _stack(endpoint: EndpointSpec, table: TableSpec) -> list[str]:
    record = table.record
    if endpoint.operation == "get":
        assert endpoint.lookup is not None
        return _find_or_404(table, endpoint.lookup, record)
    if endpoint.operation == "create":
        statement = _block(f"db.add {table.name}", _data_object(endpoint, table), 0)
        statement[-1] += f" as ${record}"
        return statement
    assert endpoint.lookup is not None
    edit = _block(
        f"db.edit {table.name}",
        ['field_name = "id"', f"field_value = ${_EXISTING}.id", *_data_object(endpoint, table)],
        0,
    )
    edit[-1] += f" as ${record}"
    return [*_find_or_404(table, endpoint.lookup, _EXISTING), "", *edit]


def render_endpoint(endpoint: EndpointSpec, spec: Spec) -> str:
    """The `query` document that creates or updates the endpoint, logic included."""
    table = spec.table_of(endpoint)
    members: list[str] = []
    if endpoint.description:
        members.append(f"description = {quote(endpoint.description)}")
    inputs = [_declaration(_field(table, p), optional=False, default=None, nullable=False)
              for p in endpoint.path_params]
    inputs += [_input_line(endpoint, _field(table, name)) for name in endpoint.inputs]
    members += _block("input", inputs, 0)
    members.append("")
    members += _block("stack", _stack(endpoint, table), 0)
    members.append("")
    members.append(f"response = ${table.record}")
    header = f"query {quote(endpoint.path)} verb={endpoint.verb}"
    return "\n".join(_block(header, members, 0)) + "\n"


# --- all documents ----------------------------------------------------------------------------------------------


def table_file_name(table: TableSpec) -> str:
    return f"table_{table.name}.xs"


def endpoint_file_name(endpoint: EndpointSpec) -> str:
    route = re.sub(r"[^a-z0-9]+", "_", endpoint.path.lower()).strip("_")
    return f"api_{route}_{endpoint.verb.lower()}.xs"


def render_all(spec: Spec) -> dict[str, str]:
    """File name -> document, for every table then every endpoint: what provision sends."""
    documents = {table_file_name(t): render_table(t) for t in spec.tables}
    documents.update({endpoint_file_name(e): render_endpoint(e, spec) for e in spec.endpoints})
    return documents


# --- Metadata API JSON ------------------------------------------------------------------------------------------


def _json_default(field: FieldSpec) -> str:
    """The `default` as the schema PUT carries it: always a string ("" for none), whatever the column's type."""
    return _default_text(field.default)


def _validators(filters: tuple[str, ...] | list[str]) -> dict[str, bool]:
    """Text filters as the schema PUT spells them (`validators`; `filters` is the add-column body's name)."""
    return {"trim": "trim" in filters, "lower": "lower" in filters}


def field_json(field: FieldSpec) -> dict[str, Any]:
    """The column as the schema PUT's JSON. `access`, `sensitive` and `style` are what a new column gets;
    for an existing one, apply keeps what Xano has (see SPEC_OWNED_KEYS)."""
    document: dict[str, Any] = {
        "name": field.name,
        "type": field.type,
        "description": field.description,
        "nullable": field.nullable,
        "required": field.required,
        "access": "public",
        "sensitive": False,
        "style": "single",
    }
    if field.type not in ("json", "uuid"):
        document["default"] = _json_default(field)
    if field.type in ("text", "email"):
        document["validators"] = _validators(field.filters)
    return document


# The keys of a column the schema files decide; anything else (access, sensitive, style...) stays as it is in Xano.
SPEC_OWNED_KEYS = ("type", "description", "nullable", "required", "default", "validators")


def index_json(index: IndexSpec) -> dict[str, Any]:
    """The index as the Metadata API's JSON: `{"type": "unique", "fields": [{"name": ..., "op": "asc"}]}`."""
    return {"type": index.type, "fields": [{"name": f.name, "op": f.op} for f in index.fields]}


def _default_text(value: Any) -> str:
    """A default compared as text: Xano returns "" for none and numbers or booleans as strings or not."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)).removesuffix(".0")
    text = str(value)
    try:
        return repr(float(text)).removesuffix(".0") if text.strip() else ""
    except ValueError:
        return text


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else repr(value)


def field_matches(spec_field: FieldSpec, xano_field: dict[str, Any]) -> list[str]:
    """How a column Xano returned differs from the spec, as "what it is -> what the spec wants" lines
    (`type int -> text`, `nullable false -> true`, `default '' -> 'active'`). Empty when they match."""
    differences: list[str] = []
    current_type = str(xano_field.get("type", ""))
    if current_type != spec_field.type:
        differences.append(f"type {current_type or '?'} -> {spec_field.type}")
    for key in ("nullable", "required"):
        current = bool(xano_field.get(key, False))
        wanted = bool(getattr(spec_field, key))
        if current != wanted:
            differences.append(f"{key} {_show(current)} -> {_show(wanted)}")
    current_default = _default_text(xano_field.get("default"))
    wanted_default = _default_text(spec_field.default)
    if current_default != wanted_default:
        differences.append(f"default {current_default!r} -> {wanted_default!r}")
    current_description = str(xano_field.get("description") or "")
    if current_description != spec_field.description:
        differences.append(f"description {current_description!r} -> {spec_field.description!r}")
    if spec_field.type in ("text", "email"):
        live = xano_field.get("validators") or {}
        current_filters = sorted(k for k in ("trim", "lower") if isinstance(live, dict) and live.get(k))
        wanted_filters = sorted(spec_field.filters)
        if current_filters != wanted_filters:
            differences.append(f"filters {current_filters} -> {wanted_filters}")
    return differences
