"""Write XanoScript documents back as text, laid out the way Xano regenerates them when it echoes an object.

Xano does not keep the text it is sent: it keeps a model and writes the text again on every read. This writer
follows the layout recorded in those echoes, so the sandbox can answer as Xano does and two documents can be
compared in one canonical form:

* the description of a query or table is a `// …` line above it, an input's or a column's a `// …` line above the
  item (never a `description = ` attribute);
* a query's members come in a fixed order (api_group, auth, input, stack, response, tags, then guid) and a table's
  too (auth, schema, index, tags, guid); two members are separated by a blank line unless both fit on one line, and
  `guid` (which the backend appends) always follows directly;
* inside `stack`, `input` and `schema`, a blank line follows every item that spans several lines, except the last;
* names are bare when they are identifiers and quoted otherwise (`query "mcp_sessions/{session_id}"`);
* an object goes on one line with commas when it takes under 64 bytes JSON-encoded, else one key per line with the
  colons aligned and no commas; a list likewise, one element per line;
* a default made of letters and digits only is written bare (`text status?=active`), any other text quoted;
* index fields carry `op` (except the primary key's default `asc`) and a unique index is `"btree|unique"`;
* there is no final newline.

Everything written reads back through `read_document(text, Grammar.ECHO)` to the same document (line numbers
aside). Statements the reader does not interpret (`emulated=False`) are written as the source it kept (`raw`).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from mcpdeploy.xanoscript.lexer import Expr, quote
from mcpdeploy.xanoscript.reader import FieldDecl, IndexDecl, QueryDocument, Statement, TableDocument

__all__ = ["expression_text", "quote", "write_query", "write_table"]

INDENT = "  "
# Xano lays an object or a list out on one line when it takes fewer bytes than this JSON-encoded (measured on
# recorded echoes: `{"type":"btree","field":[{"name":"tournament_id","op":"asc"}]}`, 62 bytes, stays on one line;
# the same with `weight_class_id`, 64 bytes, is spread over lines).
ONE_LINE_BYTES = 64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_DEFAULT = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Words the reader turns into constants: a text default spelled like one must stay quoted to stay text.
_CONSTANT_WORDS = frozenset({"true", "false", "null"})
# Binding strength of the binary operators, weakest first, as the reader's expression grammar has them.
_BINARY_LEVEL = {op: level for level, ops in enumerate([("||",), ("&&",), ("==", "!=", ">", "<", ">=", "<="), ("??",),
                                                        ("+", "-", "~"), ("*", "/", "%")]) for op in ops}
_TIGHTEST = len({*_BINARY_LEVEL.values()})


# ---- documents ---------------------------------------------------------------------------------------------------


def write_query(doc: QueryDocument, *, api_group: str | None = None, guid: str | None = None) -> str:
    """The `query` document as Xano echoes it; `api_group` (the group's name) and `guid` fall back on the
    document's own."""
    members: list[list[str]] = []
    group = api_group if api_group is not None else doc.api_group
    if group is not None:
        members.append([f"api_group = {quote(group)}"])
    if doc.auth is not None:
        members.append([f"auth = {quote(doc.auth)}"])
    members.append(_block("input", _items([_field_lines(decl) for decl in doc.inputs])))
    members.append(_block("stack", _items([_statement_lines(statement) for statement in doc.stack])))
    response = expression_text(doc.response) if doc.response is not None else "null"
    members.append(_assignment("response", response))
    if doc.tags:
        members.append(_assignment("tags", _list_text(doc.tags)))
    header = f"query {_name(doc.path)} verb={doc.verb}"
    return _document(doc.description, header, members, guid if guid is not None else doc.guid)


def write_table(doc: TableDocument, *, guid: str | None = None) -> str:
    """The `table` document as Xano echoes it, from its columns and indexes."""
    members: list[list[str]] = [[f"auth = {'true' if doc.auth else 'false'}"]]
    members.append(_block("schema", _items([_field_lines(decl) for decl in doc.fields])))
    if doc.indexes:
        entries = [_index_expr(index) for index in doc.indexes]
        members.append(_assignment("index", _array_text(Expr("array", elements=entries), force_lines=True)))
    if doc.tags:
        members.append(_assignment("tags", _list_text(doc.tags)))
    return _document(doc.description, f"table {_name(doc.name)}", members, guid if guid is not None else doc.guid)


def _document(description: str, header: str, members: list[list[str]], guid: str | None) -> str:
    lines = _comment_lines(description)
    lines.append(header + " {")
    for position, member in enumerate(members):
        if position and (len(member) > 1 or len(members[position - 1]) > 1):
            lines.append("")
        lines.extend(INDENT + line if line else "" for line in member)
    if guid is not None:
        lines.append(f"{INDENT}guid = {quote(guid)}")
    lines.append("}")
    return "\n".join(lines)


def _comment_lines(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    return [f"// {line}" if line else "//" for line in text.split("\n")]


def _block(header: str, body: list[str]) -> list[str]:
    """`header {`, the body one level deeper, `}`: never on one line, which the older grammar rejects."""
    return [header + " {", *(INDENT + line if line else "" for line in body), "}"]


def _items(items: list[list[str]]) -> list[str]:
    """Items of a block, with a blank line after each one that spans several lines (but the last)."""
    lines: list[str] = []
    for position, item in enumerate(items):
        lines.extend(item)
        if len(item) > 1 and position < len(items) - 1:
            lines.append("")
    return lines


def _assignment(key: str, value: str) -> list[str]:
    return f"{key} = {value}".split("\n")


def _name(name: str) -> str:
    return name if _IDENTIFIER.fullmatch(name) and name not in _CONSTANT_WORDS else quote(name)


# ---- inputs and columns ------------------------------------------------------------------------------------------


def _field_lines(decl: FieldDecl) -> list[str]:
    line = decl.type + ("[]" if decl.is_list else "") + ("?" if decl.nullable else "")
    line += " " + decl.name + ("?" if decl.optional else "")
    if decl.has_default:
        line += "=" + _default_text(decl.default)
    if decl.filters:
        line += " filters=" + "|".join(name + "".join(":" + _filter_argument(arg) for arg in args)
                                        for name, args in decl.filters)
    metadata = [_assignment(key, _value_text(value)) for key, value in decl.attributes.items() if key != "description"]
    body = [line for member in metadata for line in member]
    if decl.children:
        body += _block("schema", _items([_field_lines(child) for child in decl.children]))
    lines = _comment_lines(str(decl.attributes.get("description", "")))
    if body:
        return [*lines, *_block(line, body)]
    return [*lines, line]


def _default_text(value: Any) -> str:
    if isinstance(value, str) and _BARE_DEFAULT.fullmatch(value) and value not in _CONSTANT_WORDS:
        return value
    return _value_text(value)


def _filter_argument(value: Any) -> str:
    return _value_text(value, in_filter=True)


def _value_text(value: Any, in_filter: bool = False) -> str:
    """A constant (what the reader keeps of defaults, filter arguments and field metadata) as an expression."""
    text = expression_text(_constant_expr(value))
    # A filter argument or a default is read as one term: a negative number needs parentheses there.
    if in_filter and text.startswith("-"):
        return f"({text})"
    return text


def _constant_expr(value: Any) -> Expr:
    if isinstance(value, dict):
        return Expr("object", items=[(str(key), _constant_expr(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return Expr("array", elements=[_constant_expr(item) for item in value])
    return Expr("literal", value=value)


# ---- indexes -----------------------------------------------------------------------------------------------------


def _index_expr(index: IndexDecl) -> Expr:
    index_type = "btree|unique" if index.type == "unique" else index.type
    columns: list[Expr] = []
    for name, op in index.fields:
        items = [("name", Expr("literal", value=name))]
        if index_type != "primary" or op != "asc":
            items.append(("op", Expr("literal", value=op)))
        columns.append(Expr("object", items=items))
    return Expr("object", items=[("type", Expr("literal", value=index_type)),
                                 ("field", Expr("array", elements=columns))])


def _list_text(values: list[str]) -> str:
    return _array_text(Expr("array", elements=[Expr("literal", value=value) for value in values]))


# ---- statements --------------------------------------------------------------------------------------------------


def _statement_lines(statement: Statement) -> list[str]:
    alias = f" as ${statement.alias}" if statement.alias else ""
    if not statement.emulated:
        return [statement.raw + alias]
    keyword = statement.keyword
    if keyword.startswith("db."):
        header = f"{keyword} {_name(statement.target)}"
    elif keyword in ("var", "var.update"):
        header = f"{keyword} ${statement.target}"
    elif keyword == "precondition":
        condition = expression_text(statement.condition) if statement.condition is not None else "true"
        header = f"precondition ({condition})"
    else:
        header = keyword
    if keyword == "conditional":
        body = [line for branch in _branches(statement) for line in branch]
        lines = _block(header, body)
    elif statement.attributes:
        body = [line for key, value in statement.attributes.items()
                for line in _assignment(key, expression_text(value))]
        lines = _block(header, body)
    elif keyword in ("db.query", "precondition"):
        return [header + alias]  # the only statements whose block may be left out
    else:
        lines = _block(header, [])
    lines[-1] += alias
    return lines


def _branches(statement: Statement) -> list[list[str]]:
    branches: list[list[str]] = []
    for position, (condition, body) in enumerate(statement.branches):
        if condition is None:
            header = "else"
        else:
            header = f"{'if' if position == 0 else 'elseif'} ({expression_text(condition)})"
        branches.append(_block(header, _items([_statement_lines(inner) for inner in body])))
    return branches


# ---- expressions -------------------------------------------------------------------------------------------------


def expression_text(expr: Expr) -> str:
    """One value expression as Xano writes it; an object too long for one line spans several (its continuation
    lines indented relative to the line it starts on)."""
    kind = expr.kind
    if kind == "literal":
        return _literal_text(expr.value)
    if kind == "now":
        return "now"
    if kind == "ident":
        return expr.name
    if kind == "var":
        return "$" + expr.name + "".join(
            f"[{expression_text(part)}]" if isinstance(part, Expr) else f".{part}" for part in expr.path)
    if kind == "object":
        return _object_text(expr)
    if kind == "array":
        return _array_text(expr)
    if kind == "pipe":
        operand = _operand(expr.left) if expr.left is not None else "null"
        return operand + "|" + expr.name + "".join(":" + _filter_arg(arg) for arg in expr.args)
    if kind == "unary":
        inner = expr.left if expr.left is not None else Expr("literal")
        text = expression_text(inner)
        return expr.op + (f"({text})" if _level(inner) < _TIGHTEST else text)
    if kind == "binary":
        level = _BINARY_LEVEL[expr.op]
        left = expr.left if expr.left is not None else Expr("literal")
        right = expr.right if expr.right is not None else Expr("literal")
        left_text, right_text = expression_text(left), expression_text(right)
        if _level(left) < level:
            left_text = f"({left_text})"
        if _level(right) <= level:
            right_text = f"({right_text})"
        return f"{left_text} {expr.op} {right_text}"
    raise ValueError(f"cannot write an expression of kind {kind!r}")


def _level(expr: Expr) -> int:
    """How tightly an expression holds together: binary operators by their level, anything else tighter."""
    return _BINARY_LEVEL[expr.op] if expr.kind == "binary" else _TIGHTEST


def _is_term(expr: Expr) -> bool:
    """Whether the reader reads the expression's text back as one term (a filter's operand or argument)."""
    if expr.kind == "literal":
        return not _literal_text(expr.value).startswith("-")
    return expr.kind in ("now", "ident", "var", "object", "array")


def _operand(expr: Expr) -> str:
    text = expression_text(expr)
    return text if _is_term(expr) or expr.kind == "pipe" else f"({text})"


def _filter_arg(expr: Expr) -> str:
    text = expression_text(expr)
    return text if _is_term(expr) else f"({text})"


def _literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return quote(str(value))


def _number_text(value: float) -> str:
    """A decimal the lexer reads back as the same float: digits and a point, never an exponent."""
    if not math.isfinite(value):
        raise ValueError(f"XanoScript has no literal for {value}")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
        if "." not in text:
            text += ".0"
    return text


def _key_text(key: str) -> str:
    return key if _IDENTIFIER.fullmatch(key) else quote(key)


def _object_text(expr: Expr) -> str:
    if not expr.items:
        return "{}"
    if _encoded_size(expr) < ONE_LINE_BYTES:
        return "{" + ", ".join(f"{_key_text(key)}: {expression_text(value)}" for key, value in expr.items) + "}"
    width = max(len(_key_text(key)) for key, _ in expr.items)
    lines = ["{"]
    for key, value in expr.items:
        entry = f"{_key_text(key).ljust(width)}: {expression_text(value)}"
        lines.extend(INDENT + line for line in entry.split("\n"))
    lines.append("}")
    return "\n".join(lines)


def _array_text(expr: Expr, force_lines: bool = False) -> str:
    elements = [expression_text(element) for element in expr.elements]
    if not elements:
        return "[]"
    if not force_lines and _encoded_size(expr) < ONE_LINE_BYTES and not any("\n" in e for e in elements):
        return "[" + ", ".join(elements) + "]"
    lines = ["["]
    for element in elements:
        lines.extend(INDENT + line for line in element.split("\n"))
    lines.append("]")
    return "\n".join(lines)


def _encoded_size(expr: Expr) -> int:
    return len(json.dumps(_json_model(expr), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _json_model(expr: Expr) -> Any:
    """The expression as JSON, to measure it: constants as themselves, anything computed as its text."""
    if expr.kind == "object":
        return {key: _json_model(value) for key, value in expr.items}
    if expr.kind == "array":
        return [_json_model(element) for element in expr.elements]
    if expr.kind == "literal" and not (isinstance(expr.value, float) and not math.isfinite(expr.value)):
        return expr.value
    return expression_text(expr)
