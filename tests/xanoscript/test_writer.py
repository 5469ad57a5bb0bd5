"""The writer lays documents out the way Xano echoes them, and what it writes reads back to the same document.

Each example is a document as mcpdeploy sends it and the exact text Xano gives back for it: descriptions as
leading comments, the group's name first, a fixed member order, bare names and simple defaults, objects and lists
laid out by length, `op` on index fields, `btree|unique`, an optional guid last, and no final newline.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpdeploy.providers.xanoscript import render_all
from mcpdeploy.spec.loader import default_schema_dir, load_spec
from mcpdeploy.xanoscript.lexer import KNOWN_FILTERS, Expr, TokenStream, parse_expression, tokenize
from mcpdeploy.xanoscript.reader import (
    COLUMN_TYPES,
    INPUT_TYPES,
    VERBS,
    FieldDecl,
    Grammar,
    IndexDecl,
    QueryDocument,
    Statement,
    TableDocument,
    read_document,
)
from mcpdeploy.xanoscript.writer import expression_text, write_query, write_table
from tests.sandbox import (
    API_MCP_SESSIONS_GET,
    API_MCP_SESSIONS_POST,
    API_MCP_SESSIONS_PUT,
    API_USAGE_LOGS_POST,
    TABLE_MCP_SESSIONS,
    TABLE_USAGE_LOGS,
)

REFERENCE = Path(__file__).parents[1] / "providers" / "xanoscript_reference"


def query(text: str) -> QueryDocument:
    document = read_document(text, Grammar.ECHO)
    assert isinstance(document, QueryDocument)
    return document


def table(text: str) -> TableDocument:
    document = read_document(text, Grammar.ECHO)
    assert isinstance(document, TableDocument)
    return document


def meaning(document: Any) -> Any:
    """The document without what only says where it came from (its text, the line of each part)."""
    copied = copy.deepcopy(document)

    def clear(value: Any) -> None:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                if item.name == "line":
                    value.line = 0
                elif item.name == "text" and isinstance(value.text, str):
                    value.text = ""
                else:
                    clear(getattr(value, item.name))
        elif isinstance(value, list | tuple):
            for element in value:
                clear(element)
        elif isinstance(value, dict):
            for element in value.values():
                clear(element)

    clear(copied)
    return copied


def read_back(text: str) -> Any:
    return meaning(read_document(text, Grammar.ECHO))


# ---- examples: what is sent, what Xano echoes ---------------------------------------------------------------------


def test_an_endpoint_echoes_with_its_description_as_a_comment_and_the_group_name_first() -> None:
    echoed = write_query(query(API_MCP_SESSIONS_GET), api_group="mcp")

    assert echoed == """\
// Fetch one MCP session by its session_id (404 when missing)
query "mcp_sessions/{session_id}" verb=GET {
  api_group = "mcp"

  input {
    text session_id filters=trim
  }

  stack {
    db.get mcp_sessions {
      field_name = "session_id"
      field_value = $input.session_id
    } as $session

    precondition ($session != null) {
      error_type = "notfound"
      error = "Session not found"
    }
  }

  response = $session
}"""


def test_a_create_endpoint_echoes_a_bare_name_a_bare_default_and_a_long_object_with_aligned_colons() -> None:
    echoed = write_query(query(API_MCP_SESSIONS_POST), api_group="MCP sessions", guid="Nh9QNG3k8C-rUSlNU1q6gERSTl4")

    assert echoed == """\
// Create an MCP session
query mcp_sessions verb=POST {
  api_group = "MCP sessions"

  input {
    text session_id filters=trim
    text user_id filters=trim
    json client_info?
    text status?=active filters=trim
  }

  stack {
    db.add mcp_sessions {
      data = {
        session_id : $input.session_id
        user_id    : $input.user_id
        client_info: $input.client_info
        status     : $input.status
        last_active: now
        created_at : now
        updated_at : now
      }
    } as $session
  }

  response = $session
  guid = "Nh9QNG3k8C-rUSlNU1q6gERSTl4"
}"""


def test_members_come_in_xanos_order_and_one_line_members_keep_together() -> None:
    sent = """\
query "auth/me" verb=GET {
  tags = ["auth"]
  response = {user: $user, at: now}
  stack {
    db.get user {
      field_name = "id"
      field_value = $auth.id
    } as $user
  }

  input {
    // The caller's time zone
    text tz?="Europe/Paris"
  }

  auth = "user"
  description = "The user the bearer key belongs to"
}
"""
    assert write_query(query(sent), api_group="Authentication") == """\
// The user the bearer key belongs to
query "auth/me" verb=GET {
  api_group = "Authentication"
  auth = "user"

  input {
    // The caller's time zone
    text tz?="Europe/Paris"
  }

  stack {
    db.get user {
      field_name = "id"
      field_value = $auth.id
    } as $user
  }

  response = {user: $user, at: now}
  tags = ["auth"]
}"""


def test_an_object_under_64_bytes_stays_on_one_line_with_commas() -> None:
    sent = """\
query "notes/{id}" verb=PATCH {
  input {
    int id
    text label
  }

  stack {
    db.patch notes {
      field_name = "id"
      field_value = $input.id
      data = {label: $input.label, updated_at: "now"}
    } as $note

    db.edit notes {
      field_name = "id"
      field_value = $input.id
      data = {created_at: "now", name: $input.name, email: $input.email}
    } as $edited
  }

  response = $note
}"""
    echoed = write_query(query(sent))

    assert '      data = {label: $input.label, updated_at: "now"}\n' in echoed
    assert '      data = {\n        created_at: "now"\n        name      : $input.name\n' in echoed


def test_a_table_echoes_descriptions_as_comments_op_on_every_index_field_and_btree_unique() -> None:
    sent = """\
table mcp_sessions {
  auth = false
  description = "MCP client sessions"
  schema {
    int id
    text session_id filters=trim {
      description = "The session id the MCP client got"
    }
    text status?="active" filters=trim|lower
    text kind?="long-lived"
    int? owner_id? {
      table = "user"
    }
    timestamp created_at?=now
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {type: "unique", field: [{name: "session_id"}]}
    {type: "btree", field: [{name: "status"}, {name: "created_at", op: "desc"}]}
  ]
}
"""
    document = read_document(sent, Grammar.OCT_2025)
    assert isinstance(document, TableDocument)

    assert write_table(document, guid="wYJHo0D4wsicF6vK9g4OP0azRRU") == """\
// MCP client sessions
table mcp_sessions {
  auth = false

  schema {
    int id
    // The session id the MCP client got
    text session_id filters=trim

    text status?=active filters=trim|lower
    text kind?="long-lived"
    int? owner_id? {
      table = "user"
    }

    timestamp created_at?=now
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {
      type : "btree|unique"
      field: [{name: "session_id", op: "asc"}]
    }
    {
      type : "btree"
      field: [
        {name: "status", op: "asc"}
        {name: "created_at", op: "desc"}
      ]
    }
  ]
  guid = "wYJHo0D4wsicF6vK9g4OP0azRRU"
}"""


def test_short_index_entries_and_lists_stay_on_one_line_and_long_ones_spread() -> None:
    document = table(TABLE_USAGE_LOGS)
    document.indexes.append(IndexDecl("btree|unique", [("session_id", "asc"), ("tool_name", "asc")], 0))
    echoed = write_table(document)

    assert '    {type: "btree", field: [{name: "created_at", op: "desc"}]}\n' in echoed
    assert """\
    {
      type : "btree|unique"
      field: [
        {name: "session_id", op: "asc"}
        {name: "tool_name", op: "asc"}
      ]
    }
  ]
}""" in echoed


def test_statements_the_reader_does_not_interpret_are_written_as_they_were_read() -> None:
    sent = """\
query sums verb=GET {
  input {
  }

  stack {
    math.add $total {
      value = 1
    }

    var $total {
      value = 0
    }
  }

  response = $total
}"""
    echoed = write_query(query(sent))

    assert "  stack {\n    math.add $total { value = 1 }\n    var $total {\n" in echoed
    assert read_back(echoed) == read_back(sent)


def test_conditionals_echo_their_branches_each_in_its_block() -> None:
    sent = """\
query check verb=GET {
  input {
    int n
  }

  stack {
    conditional {
      if ($input.n > 10) {
        var $size {
          value = "big"
        }

        throw {
          name = "TooBig"
          value = "n is over 10"
        }
      }
      elseif ($input.n > 5) {
        var $size {
          value = "medium"
        }
      }
      else {
        return {
          value = null
        }
      }
    }
  }

  response = $size
}"""
    assert write_query(query(sent)) == sent


@pytest.mark.parametrize(("text", "expected"), [
    ("$a + $b * $c", "$a + $b * $c"),
    ("($a + $b) * $c", "($a + $b) * $c"),
    ("$a - ($b - $c)", "$a - ($b - $c)"),
    ("$input.status|first_notnull:$existing.status", "$input.status|first_notnull:$existing.status"),
    ("($a + 1)|round:(-2)", "($a + 1)|round:(-2)"),
    ("!($ok && $ready) || $x.y[0]", "!($ok && $ready) || $x.y[0]"),
    ("$env.$remote_ip", "$env.$remote_ip"),
    ('{"a key": 1.5, list: [1, -2, "3"]}', '{"a key": 1.5, list: [1, -2, "3"]}'),
    ('"line\\nbreak \\"quoted\\""', '"line\\nbreak \\"quoted\\""'),
])
def test_one_expression_is_written_with_the_parentheses_it_needs(text: str, expected: str) -> None:
    expression = parse_expression(TokenStream(tokenize(text)))

    assert expression_text(expression) == expected


# ---- round trips ---------------------------------------------------------------------------------------------------


def generated_documents() -> dict[str, str]:
    return render_all(load_spec(default_schema_dir()))


REFERENCE_DOCUMENTS = {
    "TABLE_MCP_SESSIONS": TABLE_MCP_SESSIONS, "TABLE_USAGE_LOGS": TABLE_USAGE_LOGS,
    "API_MCP_SESSIONS_GET": API_MCP_SESSIONS_GET, "API_MCP_SESSIONS_POST": API_MCP_SESSIONS_POST,
    "API_MCP_SESSIONS_PUT": API_MCP_SESSIONS_PUT, "API_USAGE_LOGS_POST": API_USAGE_LOGS_POST,
    **{path.name: path.read_text() for path in sorted(REFERENCE.glob("*.xs"))},
    **generated_documents(),
}


def write(document: QueryDocument | TableDocument) -> str:
    if isinstance(document, QueryDocument):
        return write_query(document, api_group="mcp", guid="Fq3wZm5EpUt7RjYnCa2LhOi4KkBw6")
    return write_table(document, guid="Fq3wZm5EpUt7RjYnCa2LhOi4KkBw6")


@pytest.mark.parametrize("name", sorted(REFERENCE_DOCUMENTS))
def test_every_document_mcpdeploy_sends_reads_back_the_same_from_its_echo(name: str) -> None:
    sent = read_document(REFERENCE_DOCUMENTS[name], Grammar.OCT_2025)
    assert isinstance(sent, QueryDocument | TableDocument)
    echoed = write(sent)

    expected = meaning(sent)
    expected.guid = "Fq3wZm5EpUt7RjYnCa2LhOi4KkBw6"
    if isinstance(expected, QueryDocument):
        expected.api_group = "mcp"
    else:
        for index in expected.indexes:
            index.type = "btree|unique" if index.type == "unique" else index.type
    assert read_back(echoed) == expected
    assert not echoed.endswith("\n")
    assert "description =" not in echoed
    again = read_document(echoed, Grammar.ECHO)
    assert isinstance(again, QueryDocument | TableDocument)
    assert write(again) == echoed  # an echo of an echo is the same text


# ---- hypothesis: any document the reader can produce ---------------------------------------------------------------

_RESERVED = {"true", "false", "null", "now"}
identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(lambda name: name not in _RESERVED)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
descriptions = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zl", "Zp")).filter(
    lambda c: c not in "\r"), max_size=30).map(lambda text: text.strip())
numbers = st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
constants = st.none() | st.booleans() | numbers | texts


def _unary(operand: Expr, op: str) -> Expr:
    if op == "-" and operand.kind == "literal" and isinstance(operand.value, int | float):
        return Expr("unary", op="!", left=operand)  # the reader folds `-5` into a literal
    return Expr("unary", op=op, left=operand)


leaves = st.one_of(
    constants.map(lambda value: Expr("literal", value=value)),
    st.just(Expr("now")),
    identifiers.map(lambda name: Expr("ident", name=name)),
    st.builds(lambda name, path: Expr("var", name=name, path=path), identifiers,
              st.lists(identifiers | st.integers(0, 9).map(lambda i: Expr("literal", value=i)), max_size=3)),
)
expressions = st.recursive(leaves, lambda inner: st.one_of(
    st.builds(lambda items: Expr("object", items=items), st.lists(st.tuples(identifiers | texts, inner), max_size=5)),
    st.builds(lambda elements: Expr("array", elements=elements), st.lists(inner, max_size=4)),
    st.builds(lambda operand, name, args: Expr("pipe", name=name, left=operand, args=args),
              inner, st.sampled_from(sorted(KNOWN_FILTERS)), st.lists(inner, max_size=2)),
    st.builds(lambda op, left, right: Expr("binary", op=op, left=left, right=right),
              st.sampled_from(["||", "&&", "==", "!=", ">", "<", ">=", "<=", "??", "+", "-", "~", "*", "/", "%"]),
              inner, inner),
    st.builds(_unary, inner, st.sampled_from(["!", "-"])),
), max_leaves=12)


@st.composite
def field_decls(draw: st.DrawFn, types: frozenset[str], depth: int = 0) -> FieldDecl:
    field_type = draw(st.sampled_from(sorted(types - {"object"}) + (["object"] if depth == 0 else [])))
    decl = FieldDecl(name=draw(identifiers), type=field_type, line=0, nullable=draw(st.booleans()),
                     optional=draw(st.booleans()), is_list=draw(st.booleans()))
    if draw(st.booleans()):
        decl.default, decl.has_default = draw(constants | st.just("now") | identifiers), True
    decl.filters = draw(st.lists(st.tuples(st.sampled_from(sorted(KNOWN_FILTERS)),
                                           st.lists(constants, max_size=2)), max_size=2))
    decl.attributes = draw(st.dictionaries(st.sampled_from(["sensitive", "table", "values", "visibility"]),
                                           constants | st.lists(texts, max_size=3), max_size=2))
    description = draw(descriptions)
    if description:
        decl.attributes["description"] = description
    if field_type == "object":
        decl.children = draw(st.lists(field_decls(types, depth + 1), max_size=2))
    return decl


def _db(draw: st.DrawFn, operation: str) -> Statement:
    statement = Statement(keyword=f"db.{operation}", line=0, target=draw(identifiers | texts),
                          alias=draw(st.just("") | identifiers))
    if operation in ("get", "has", "edit", "patch", "add_or_edit", "del"):
        statement.attributes["field_name"] = Expr("literal", value=draw(identifiers))
        statement.attributes["field_value"] = draw(expressions)
    if operation == "edit":
        statement.attributes["data"] = draw(st.lists(st.tuples(identifiers, expressions), max_size=3).map(
            lambda items: Expr("object", items=items)))
    elif operation in ("add", "patch", "add_or_edit"):
        statement.attributes["data"] = draw(expressions)
    elif operation == "query" and draw(st.booleans()):
        statement.attributes["where"] = draw(expressions)
    if draw(st.booleans()):
        statement.attributes["description"] = Expr("literal", value=draw(texts))
    return statement


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> Statement:
    kinds = ["db", "precondition", "var", "var.update", "throw", "return", "raw"] + (["conditional"] if depth < 2
                                                                                    else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "db":
        return _db(draw, draw(st.sampled_from(["get", "has", "add", "edit", "patch", "add_or_edit", "del",
                                               "query"])))
    if kind == "precondition":
        attributes = draw(st.dictionaries(st.sampled_from(["error_type", "error", "payload"]), expressions,
                                          max_size=3))
        return Statement("precondition", 0, condition=draw(expressions), attributes=attributes)
    if kind in ("var", "var.update"):
        return Statement(kind, 0, target=draw(identifiers), attributes={"value": draw(expressions)})
    if kind == "throw":
        return Statement("throw", 0, attributes={"name": draw(expressions), "value": draw(expressions)})
    if kind == "return":
        return Statement("return", 0, attributes={"value": draw(expressions)})
    if kind == "raw":
        raw, alias = draw(st.sampled_from([
            ("math.add $total { value = 1 }", ""), ("db.truncate t { reset = true }", "done"),
            ("foreach ($rows) { each as $row { var $x { value = $row.id|trim } } }", ""),
            ('api.lambda { code = "return 1" timeout = 10 }', "result")]))
        return Statement(raw.split(" ")[0], 0, emulated=False, raw=raw, alias=alias)
    branches: list[tuple[Expr | None, list[Statement]]] = [
        (draw(expressions), draw(st.lists(statements(depth + 1), max_size=2)))
        for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        branches.append((None, draw(st.lists(statements(depth + 1), max_size=2))))
    return Statement("conditional", 0, branches=branches)


queries = st.builds(
    QueryDocument, path=identifiers | texts, verb=st.sampled_from(VERBS), text=st.just(""), description=descriptions,
    auth=st.none() | texts, tags=st.lists(texts, max_size=3), inputs=st.lists(field_decls(INPUT_TYPES), max_size=4),
    stack=st.lists(statements(), max_size=4), response=expressions, api_group=st.none() | texts,
    guid=st.none() | texts)


@st.composite
def tables(draw: st.DrawFn) -> TableDocument:
    fields = [FieldDecl("id", draw(st.sampled_from(["int", "uuid"])), 0),
              *draw(st.lists(field_decls(COLUMN_TYPES), max_size=4))]
    indexes = draw(st.lists(st.builds(
        IndexDecl, st.sampled_from(["primary", "btree", "btree|unique", "gin", "search"]),
        st.lists(st.tuples(identifiers, st.sampled_from(["asc", "desc", "jsonb_path_op"])), max_size=3),
        st.just(0)), max_size=3))
    return TableDocument(name=draw(identifiers | texts), text="", description=draw(descriptions),
                         auth=draw(st.booleans()), tags=draw(st.lists(texts, max_size=3)), fields=fields,
                         indexes=indexes, guid=draw(st.none() | texts))


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(queries)
def test_any_query_reads_back_the_same_from_what_the_writer_writes(document: QueryDocument) -> None:
    written = write_query(document)

    assert read_back(written) == meaning(document)
    assert write_query(query(written)) == written


@_SETTINGS
@given(tables())
def test_any_table_reads_back_the_same_from_what_the_writer_writes(document: TableDocument) -> None:
    written = write_table(document)

    assert read_back(written) == meaning(document)
    assert write_table(table(written)) == written


@_SETTINGS
@given(expressions)
def test_any_expression_reads_back_the_same(expression: Expr) -> None:
    text = expression_text(expression)

    assert meaning(parse_expression(TokenStream(tokenize(text)))) == meaning(expression)
