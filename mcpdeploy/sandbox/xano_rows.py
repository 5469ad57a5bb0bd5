"""Rows of a sandbox Xano table: defaults, light type coercion, auto-increment ids, unique indexes enforced.

Used by the content endpoints of the Metadata API and by the runtime's `db.*` statements, so both paths obey the
same constraints a real database would.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mcpdeploy.sandbox.xano_errors import input_error

UNIQUE_INDEX_TYPES = ("primary", "btree|unique", "unique")  # "unique": states saved by earlier versions


def now_ms() -> int:
    return int(time.time() * 1000)


def initial_value(field: dict[str, Any]) -> Any:
    """The value a column takes when a write does not set it: its default, or null."""
    default = field.get("default", "")
    if default == "" or field["name"] == "id":
        return None
    if default == "now" and field["type"] in ("timestamp", "date"):
        return now_ms()
    return coerce(field, default)


def coerce(field: dict[str, Any], value: Any) -> Any:
    """Store values the way the column's type would (numeric strings to numbers, ISO times to epoch ms)."""
    if value is None or field.get("style") == "list":
        return value
    kind = field["type"]
    try:
        if kind == "int" and isinstance(value, (str, float)) and not isinstance(value, bool):
            return int(float(value))
        if kind == "decimal" and isinstance(value, str):
            return float(value)
        if kind == "bool" and isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        if kind == "timestamp":
            return timestamp_ms(value)
    except ValueError:
        raise input_error(f"Value is not a valid {kind} for column `{field['name']}`.",
                          {"param": field["name"]}) from None
    if kind in ("text", "email", "password") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def timestamp_ms(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("boolean timestamp")
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text == "now":
        return now_ms()
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))
    return int(parsed.timestamp() * 1000)


def insert_row(table: dict[str, Any], data: dict[str, Any], allow_id: bool = False) -> dict[str, Any]:
    """Add a row built from `data` (keys that are not columns are ignored); returns a copy of the stored row."""
    row: dict[str, Any] = {}
    for field in table["schema"]:
        name = field["name"]
        row[name] = coerce(field, data[name]) if name in data else initial_value(field)
    if not allow_id or row.get("id") is None:
        row["id"] = table["next_row_id"]
    if any(existing["id"] == row["id"] for existing in table["rows"]):
        raise input_error(f"Duplicate record detected. Record with id {row['id']} already exists.")
    check_unique(table, row)
    table["rows"].append(row)
    if isinstance(row["id"], int):
        table["next_row_id"] = max(table["next_row_id"], row["id"] + 1)
    return copy.deepcopy(row)


def update_row(table: dict[str, Any], row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    columns = {field["name"]: field for field in table["schema"]}
    updated = dict(row)
    for name, value in changes.items():
        if name in columns and name != "id":
            updated[name] = coerce(columns[name], value)
    check_unique(table, updated, ignore=row)
    row.clear()
    row.update(updated)
    return copy.deepcopy(row)


def check_unique(table: dict[str, Any], candidate: dict[str, Any], ignore: dict[str, Any] | None = None) -> None:
    for index in table["index"]:
        if index["type"] not in UNIQUE_INDEX_TYPES:
            continue
        names = [column["name"] for column in index["fields"]]
        key = [candidate.get(name) for name in names]
        if any(value is None for value in key):
            continue  # NULLs never collide in a unique index
        for existing in table["rows"]:
            if existing is not ignore and [existing.get(name) for name in names] == key:
                raise input_error(f"Duplicate record detected. Please check your inputs for the unique field(s): "
                                  f"{', '.join(names)}.", {"fields": names})


def find_row(table: dict[str, Any], field_name: str, value: Any) -> dict[str, Any] | None:
    for row in table["rows"]:
        if loosely_equal(row.get(field_name), value):
            found: dict[str, Any] = row
            return found
    return None


def loosely_equal(stored: Any, wanted: Any) -> bool:
    """Path and query values arrive as text; compare `"5"` with 5 the way a typed column lookup would."""
    if stored == wanted:
        return True
    if stored is None or wanted is None or isinstance(stored, (dict, list)):
        return False
    return str(stored) == str(wanted)


def reshape_rows(table: dict[str, Any], renamed: dict[str, str] | None = None) -> None:
    """After a schema change: rename, drop the data of removed columns, give added columns their initial value."""
    for row in table["rows"]:
        for old, new in (renamed or {}).items():
            if old in row:
                row[new] = row.pop(old)
        columns = {field["name"] for field in table["schema"]}
        for name in [name for name in row if name not in columns]:
            del row[name]
        for field in table["schema"]:
            if field["name"] not in row:
                row[field["name"]] = initial_value(field)


# ---- content search ----------------------------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: loosely_equal(a, b), "!=": lambda a, b: not loosely_equal(a, b),
    ">": lambda a, b: a is not None and a > b, ">=": lambda a, b: a is not None and a >= b,
    "<": lambda a, b: a is not None and a < b, "<=": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: any(loosely_equal(a, x) for x in b), "not in": lambda a, b: all(not loosely_equal(a, x)
                                                                                          for x in b),
}


def search_rows(rows: list[dict[str, Any]], search: Any, sort: Any) -> list[dict[str, Any]]:
    """content/search: `{"field|op|or": value}` conditions (object, or a list of objects) and a sort."""
    conditions: list[tuple[str, str, bool, Any]] = []
    for group in search if isinstance(search, list) else [search] if search else []:
        if not isinstance(group, dict):
            raise input_error("Invalid value for param: search", {"param": "search"})
        for key, value in group.items():
            parts = key.split("|")
            operator = parts[1] if len(parts) > 1 else "="
            if operator not in _OPERATORS:
                raise input_error(f"Unsupported search operator: {operator}", {"param": "search"})
            conditions.append((parts[0], operator, len(parts) > 2 and parts[2] == "or", value))
    matched = [row for row in rows if _matches(row, conditions)]
    for column, descending in reversed(_sort_keys(sort)):
        matched.sort(key=lambda r: (r.get(column) is None, r.get(column)), reverse=descending)
    return matched


def _matches(row: dict[str, Any], conditions: list[tuple[str, str, bool, Any]]) -> bool:
    result = True
    for position, (column, operator, is_or, value) in enumerate(conditions):
        try:
            outcome = bool(_OPERATORS[operator](row.get(column), value))
        except TypeError:
            outcome = False
        result = outcome if position == 0 else (result or outcome) if is_or else (result and outcome)
    return result


def _sort_keys(sort: Any) -> list[tuple[str, bool]]:
    if isinstance(sort, dict):
        return [(str(k), str(v).lower() == "desc") for k, v in sort.items()]
    if isinstance(sort, list):
        return [(str(s.get("sortBy")), str(s.get("orderBy", "asc")).lower() == "desc")
                for s in sort if isinstance(s, dict)]
    return []
