"""Compare XanoScript documents by what they mean, not by how they are laid out.

Xano does not keep the text it is sent: it stores a model and regenerates the text on every read (descriptions
become leading comments, an `api_group` line and sometimes a `guid` are added, objects are re-laid out, simple
defaults lose their quotes). So a document read back from Xano is compared with the one mcpdeploy generates in a
canonical form: both are read with the one reader, stripped of what Xano adds by itself, put in a fixed order
where order carries no meaning (inputs, object keys, tags), and written out by the one writer. Any real difference
(an input, a filter, a statement, the response, the description text) survives into the canonical form.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass

from mcpdeploy.xanoscript.lexer import Expr
from mcpdeploy.xanoscript.reader import (
    FieldDecl,
    Grammar,
    QueryDocument,
    Statement,
    XanoScriptSyntaxError,
    read_document,
)
from mcpdeploy.xanoscript.writer import write_query

# A plan shows at most this many lines of a difference: enough to see what changed, short enough to read.
MAX_DIFF_LINES = 24


@dataclass(frozen=True)
class Comparison:
    same: bool
    diff: tuple[str, ...] = ()  # `-` what Xano has, `+` what the schemas want, in canonical form


def canonical_query(text: str) -> str:
    """The canonical form of a `query` document (raises XanoScriptSyntaxError when it cannot be read)."""
    document = read_document(text, Grammar.ECHO)
    if not isinstance(document, QueryDocument):
        raise XanoScriptSyntaxError(1, "expected a `query` document")
    return write_query(normalized_query(document))


def compare_queries(live: str, wanted: str) -> Comparison:
    """Whether what Xano holds (`live`) means what mcpdeploy would send (`wanted`), with a short diff if not.
    A live document the reader cannot read is a difference: sending ours replaces it with something known."""
    wanted_form = canonical_query(wanted)
    try:
        live_form = canonical_query(live)
    except XanoScriptSyntaxError as exc:
        return Comparison(False, (f"the logic in Xano could not be read ({exc}); it will be replaced",))
    if live_form == wanted_form:
        return Comparison(True)
    lines = difflib.unified_diff(live_form.splitlines(), wanted_form.splitlines(), "xano", "schemas", n=1,
                                 lineterm="")
    body = [line for line in lines if not line.startswith(("---", "+++"))]
    if len(body) > MAX_DIFF_LINES:
        body = [*body[:MAX_DIFF_LINES], f"... {len(body) - MAX_DIFF_LINES} more lines"]
    return Comparison(False, tuple(body))


def normalized_query(document: QueryDocument) -> QueryDocument:
    """A copy without what Xano adds itself, in a fixed order where order means nothing."""
    out = copy.deepcopy(document)
    out.api_group = None
    out.guid = None
    out.text = ""
    out.description = out.description.strip()
    out.tags = sorted(out.tags)
    out.inputs = sorted((_field(decl) for decl in out.inputs), key=lambda decl: decl.name)
    out.stack = [_statement(statement) for statement in out.stack]
    out.response = _expression(out.response) if out.response is not None else None
    return out


def _field(decl: FieldDecl) -> FieldDecl:
    decl.line = 0
    if decl.has_default:
        decl.default = default_text(decl.default)
    description = str(decl.attributes.get("description", "")).strip()
    decl.attributes = {key: value for key, value in sorted(decl.attributes.items()) if key != "description"}
    if description:
        decl.attributes["description"] = description
    decl.children = sorted((_field(child) for child in decl.children), key=lambda child: child.name)
    return decl


def default_text(value: object) -> str:
    """A default as text: `"active"` and `active`, `5` and `"5"`, `true` and `"true"` mean the same to Xano."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _statement(statement: Statement) -> Statement:
    statement.line = 0
    statement.attributes = {key: _expression(value) for key, value in sorted(statement.attributes.items())}
    statement.condition = _expression(statement.condition) if statement.condition is not None else None
    statement.branches = [(_expression(condition) if condition is not None else None,
                           [_statement(inner) for inner in body]) for condition, body in statement.branches]
    return statement


def _expression(expr: Expr) -> Expr:
    expr.line = 0
    if expr.kind == "object":
        expr.items = sorted(((key, _expression(value)) for key, value in expr.items), key=lambda item: item[0])
    for child in (expr.left, expr.right):
        if isinstance(child, Expr):
            _expression(child)
    expr.elements = [_expression(element) for element in expr.elements]
    expr.args = [_expression(arg) for arg in expr.args]
    expr.path = [_expression(part) if isinstance(part, Expr) else part for part in expr.path]
    return expr
