"""Read XanoScript documents (`table`, `query`, `api_group`) the way Xano's parser reads them.

One reader serves both sides: the sandbox accepts or refuses what is sent to its Xano with it, and planning reads
what Xano echoes back with it, to compare documents by what they mean. Which forms are accepted depends on the
grammar (`Grammar`): the October 2025 grammar is the strictest (every block opens with `{` and a new line, members
sit on their own lines, `//` comments are statements of `stack` only, a query has no `api_group`); the December 2025
grammar also takes `api_group` inside a query, `//` comments above `query`/`table` and inside `input`/`schema` or
among a query's members, and one-line field metadata, and refuses an index `type: "unique"`; what Xano echoes may
also carry a `guid` member and a one-line `input {}`. A comment directly above the document, an input or a column
is its description, as in Xano's echo. Everywhere: verbs are GET POST PUT PATCH DELETE, a table has an `int` or
`uuid` `id`, type aliases (`string`, `integer`, `boolean`) and unknown types are refused, `db.*` statements carry
exactly their allowed attributes, and `db.edit` takes an object literal as `data`. Anything else raises
`XanoScriptSyntaxError` naming the line, which the sandbox answers with 400 `ERROR_CODE_SYNTAX_ERROR`, as Xano does.

Like Xano's parser this does not check names against the workspace (unknown tables, columns, `$vars`, or an
`error_type` typo all pass); the sandbox's runtime finds those when an endpoint runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mcpdeploy.xanoscript.lexer import (
    Expr,
    Token,
    TokenStream,
    XanoScriptSyntaxError,
    describe,
    literal_value,
    parse_expression,
    parse_filter_chain,
    quote,
    tokenize,
)

__all__ = ["ApiGroupDocument", "FieldDecl", "Grammar", "IndexDecl", "QueryDocument", "Statement", "TableDocument",
           "XanoScriptSyntaxError", "read_document"]


class Grammar(Enum):
    """Which of Xano's grammars a document is read with."""

    OCT_2025 = "2025-10"  # the strictest: what mcpdeploy sends must pass it
    DEC_2025 = "2025-12"  # the editor grammar of December 2025: what the sandbox's Xano accepts
    ECHO = "echo"  # what Xano may answer with: the December forms plus `guid` and a one-line `input {}`

    @property
    def comments_outside_stack(self) -> bool:
        return self is not Grammar.OCT_2025

    @property
    def api_group_in_query(self) -> bool:
        return self is not Grammar.OCT_2025

    @property
    def one_line_metadata(self) -> bool:
        return self is not Grammar.OCT_2025

    @property
    def unique_index_spelling(self) -> bool:
        """`type: "unique"` in an index: only the oldest grammar takes it (`btree|unique` everywhere)."""
        return self is Grammar.OCT_2025

    @property
    def guid_member(self) -> bool:
        return self is Grammar.ECHO

    @property
    def one_line_empty_block(self) -> bool:
        return self is Grammar.ECHO


BASE_TYPES = frozenset({
    "int", "timestamp", "text", "uuid", "vector", "date", "bool", "decimal", "email", "password", "json", "image",
    "video", "audio", "attachment", "geo_point", "geo_multipoint", "geo_linestring", "geo_multilinestring",
    "geo_polygon", "geo_multipolygon",
})
COLUMN_TYPES = BASE_TYPES | {"enum", "object"}
INPUT_TYPES = BASE_TYPES | {"enum", "object", "file", "dblink"}
TYPE_ALIASES = {"string": "text", "integer": "int", "boolean": "bool", "number": "decimal", "float": "decimal"}
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_DB_ATTRIBUTES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "get": (frozenset({"field_name", "field_value"}), frozenset({"description", "disabled", "addon", "output"})),
    "has": (frozenset({"field_name", "field_value"}), frozenset({"description", "disabled"})),
    "add": (frozenset({"data"}), frozenset({"description", "disabled", "addon"})),
    "edit": (frozenset({"field_name", "field_value", "data"}), frozenset({"description", "disabled", "addon"})),
    "patch": (frozenset({"field_name", "field_value", "data"}), frozenset({"description", "disabled", "addon"})),
    "add_or_edit": (frozenset({"field_name", "field_value", "data"}),
                    frozenset({"description", "disabled", "addon"})),
    "del": (frozenset({"field_name", "field_value"}), frozenset({"description", "disabled"})),
    "query": (frozenset(), frozenset({"where", "additional_where", "join", "eval", "sort", "override_sort", "return",
                                      "output", "addon", "description", "disabled", "mock"})),
}
# Known to Xano's grammar but not interpreted by the sandbox: parsed loosely, refused at run time.
_OTHER_DB_OPS = frozenset({"direct_query", "schema", "truncate", "transaction", "set_datasource"})
_OTHER_STATEMENTS = frozenset({"try_catch", "foreach", "for", "while", "switch", "group"})
_OTHER_NAMESPACES = frozenset({"function", "api", "security", "debug", "util", "redis", "storage", "stream", "text",
                               "array", "math", "object", "cloud", "zip", "task", "var", "db"})
_QUERY_ATTRIBUTES = frozenset({"description", "docs", "auth", "cache", "history", "middleware", "tags"})
_TABLE_ATTRIBUTES = frozenset({"description", "tags", "auth", "view", "index"})
# Attributes Xano adds itself: read, but not part of what a document means.
_ECHO_ONLY_ATTRIBUTES = frozenset({"guid"})
_GROUP_ATTRIBUTES = frozenset({"canonical", "swagger", "description", "docs", "tags", "active", "history"})
_COMMENT_RULE = "`//` comments are only accepted as statements inside `stack`"


@dataclass
class FieldDecl:
    """A schema column or a query input: `type[]? name?=default filters=... { metadata }`."""

    name: str
    type: str
    line: int
    nullable: bool = False  # `type?`
    optional: bool = False  # `name?`
    default: Any = None  # a literal, or "now"; meaningful when has_default
    has_default: bool = False
    is_list: bool = False
    filters: list[tuple[str, list[Any]]] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)  # metadata: description, table, values...
    children: list[FieldDecl] = field(default_factory=list)

    @property
    def description(self) -> str:
        return str(self.attributes.get("description", ""))


@dataclass
class IndexDecl:
    type: str
    fields: list[tuple[str, str]]  # (column, op)
    line: int


@dataclass
class TableDocument:
    name: str
    text: str
    description: str = ""
    auth: bool = False
    tags: list[str] = field(default_factory=list)
    fields: list[FieldDecl] = field(default_factory=list)
    indexes: list[IndexDecl] = field(default_factory=list)
    guid: str | None = None


@dataclass
class Statement:
    keyword: str  # "db.get", "precondition", "var", "var.update", "conditional", "throw", "return", ...
    line: int
    target: str = ""  # the table of a db.* statement, the variable of var/var.update
    attributes: dict[str, Expr] = field(default_factory=dict)
    alias: str = ""  # `as $name` -> "name"
    condition: Expr | None = None
    branches: list[tuple[Expr | None, list[Statement]]] = field(default_factory=list)
    emulated: bool = True
    raw: str = ""  # the tokens of a statement read loosely (emulated=False), keyword first, on one line


@dataclass
class QueryDocument:
    path: str
    verb: str
    text: str
    description: str = ""
    auth: str | None = None
    tags: list[str] = field(default_factory=list)
    inputs: list[FieldDecl] = field(default_factory=list)
    stack: list[Statement] = field(default_factory=list)
    response: Expr | None = None
    api_group: str | None = None  # the group's name, which newer Xano versions add to every echo
    guid: str | None = None


@dataclass
class ApiGroupDocument:
    name: str
    text: str
    canonical: str | None = None
    swagger: bool = True
    description: str = ""
    docs: str = ""
    tags: list[str] = field(default_factory=list)


Document = TableDocument | QueryDocument | ApiGroupDocument


def read_document(text: str, grammar: Grammar = Grammar.DEC_2025) -> Document:
    """Parse one document, or raise XanoScriptSyntaxError with the line Xano would complain about."""
    reader = _Reader(TokenStream(tokenize(text)), grammar)
    reader.skip_blank()
    leading = reader.take_comments()
    head = reader.stream.expect("name", what="`table`, `query` or `api_group`")
    if head.text == "table":
        document: Document = reader.table(text)
    elif head.text == "query":
        document = reader.query(text)
    elif head.text == "api_group":
        document = reader.api_group(text)
    else:
        raise XanoScriptSyntaxError(head.line, f"`{head.text}` documents are not accepted here "
                                               "(the sandbox reads `table`, `query` and `api_group`)")
    if leading and not document.description:
        document.description = leading
    reader.skip_blank()
    if not reader.stream.at("end"):
        raise XanoScriptSyntaxError(reader.stream.current.line,
                                    f"unexpected {describe(reader.stream.current)} after the end of the document")
    return document


class _Reader:
    def __init__(self, stream: TokenStream, grammar: Grammar) -> None:
        self.stream = stream
        self.grammar = grammar
        self.comments: list[str] = []  # the `//` lines read since the last member

    # ---- layout ----------------------------------------------------------------------------------------------

    def skip_blank(self, in_stack: bool = False) -> None:
        while self.stream.at("newline") or self.stream.at("comment"):
            if self.stream.at("comment"):
                if not in_stack and not self.grammar.comments_outside_stack:
                    raise XanoScriptSyntaxError(self.stream.current.line, _COMMENT_RULE)
                text = self.stream.current.text[2:]
                self.comments.append(text[1:] if text.startswith(" ") else text)
            self.stream.advance()

    def take_comments(self) -> str:
        """The comment lines above what comes next, as Xano echoes a description; they belong to nothing else."""
        text = "\n".join(self.comments).strip()
        self.comments = []
        return text

    def open_block(self, what: str, one_line_allowed: bool = False) -> bool:
        """Read `{`; True when the block is closed on the same line (`{}`, or one-line metadata)."""
        self.stream.expect("op", "{", what=f"`{{` to open `{what}`")
        if one_line_allowed and not self.stream.at("newline"):
            return True
        if not self.stream.at("newline"):
            found = self.stream.current
            detail = _COMMENT_RULE if found.kind == "comment" else f"found {describe(found)}"
            raise XanoScriptSyntaxError(found.line, f"`{what} {{` must be followed by a new line; one-line blocks "
                                                    f"are not accepted ({detail})")
        return False

    def members(self, read_member: Callable[[], None], in_stack: bool = False) -> int:
        """Read members up to the closing `}`, each on its own line; returns the line of the `}`."""
        while True:
            self.skip_blank(in_stack)
            closing = self.stream.accept("op", "}")
            if closing is not None:
                self.comments = []
                return closing.line
            if self.stream.at("end"):
                raise XanoScriptSyntaxError(self.stream.current.line, "a block is not closed (missing `}`)")
            read_member()
            self.comments = []
            self.end_of_member()

    def one_line_members(self, read_member: Callable[[], None]) -> None:
        """`{ key = value, ... }` on one line, as the newer grammar allows for field metadata."""
        while not self.stream.accept("op", "}"):
            if self.stream.at("newline") or self.stream.at("end"):
                raise XanoScriptSyntaxError(self.stream.current.line, "a one-line block must close on its line")
            read_member()
            self.stream.accept("op", ",")

    def end_of_member(self) -> None:
        token = self.stream.current
        if token.kind == "newline":
            return
        if token.kind == "comment":
            raise XanoScriptSyntaxError(token.line, "`//` comments are not accepted at the end of a line")
        raise XanoScriptSyntaxError(token.line, f"expected a new line, found {describe(token)}: each member of a "
                                                "block goes on its own line")

    def name_or_string(self, what: str) -> str:
        token = self.stream.current
        if token.kind not in ("name", "string"):
            raise XanoScriptSyntaxError(token.line, f"expected {what}, found {describe(token)}")
        self.stream.advance()
        return token.text if token.kind == "name" else str(token.value)

    def assignment(self) -> Expr:
        self.stream.expect("op", "=", what="`=`")
        return parse_expression(self.stream)

    # ---- table -----------------------------------------------------------------------------------------------

    def table(self, text: str) -> TableDocument:
        document = TableDocument(name=self.name_or_string("the table name"), text=text)
        self.open_block("table")
        seen: set[str] = set()
        has_schema = False

        def member() -> None:
            nonlocal has_schema
            key = self._member_key(seen, "table")
            if key.text == "schema":
                has_schema = True
                self.open_block("schema")
                self.members(lambda: document.fields.append(self.field_line(COLUMN_TYPES)))
            elif key.text in _TABLE_ATTRIBUTES:
                value = self.assignment()
                self._table_attribute(document, key, value)
            elif key.text == "guid" and self.grammar.guid_member:
                document.guid = str(literal_value(self.assignment()))
            else:
                raise XanoScriptSyntaxError(key.line, f"Attribute `{key.text}` is not allowed in a table")

        closing = self.members(member)
        ids = [f for f in document.fields if f.name == "id"]
        if not has_schema or not ids or ids[0].type not in ("int", "uuid"):
            raise XanoScriptSyntaxError(closing, f"table `{document.name}` needs an `id` column of type int or uuid "
                                                 "in its schema")
        return document

    def _member_key(self, seen: set[str], where: str) -> Token:
        key = self.stream.expect("name", what=f"a member of the {where}")
        if key.text in seen:
            raise XanoScriptSyntaxError(key.line, f"`{key.text}` appears twice in the {where}")
        seen.add(key.text)
        return key

    def _table_attribute(self, document: TableDocument, key: Token, value: Expr) -> None:
        constant = literal_value(value)
        if key.text == "description":
            document.description = str(constant)
        elif key.text == "auth":
            document.auth = bool(constant)
        elif key.text == "tags":
            document.tags = [str(tag) for tag in constant] if isinstance(constant, list) else []
        elif key.text == "index":
            document.indexes = self._indexes(value)

    def _indexes(self, value: Expr) -> list[IndexDecl]:
        if value.kind != "array":
            raise XanoScriptSyntaxError(value.line, "`index` must be a list of `{type: ..., field: [...]}` objects")
        indexes: list[IndexDecl] = []
        for element in value.elements:
            entry = literal_value(element)
            if not isinstance(entry, dict) or set(entry) - {"type", "field", "name"} or "type" not in entry:
                raise XanoScriptSyntaxError(element.line, "each index is `{type: \"...\", field: [{name: \"...\"}]}`")
            columns = entry.get("field", [])
            if not isinstance(columns, list) or not all(isinstance(c, dict) and "name" in c for c in columns):
                raise XanoScriptSyntaxError(element.line, "index `field` must be a list of `{name: ..., op: ...}`")
            if entry["type"] == "unique" and not self.grammar.unique_index_spelling:
                raise XanoScriptSyntaxError(element.line, 'index type `unique` is spelled `"btree|unique"`')
            indexes.append(IndexDecl(str(entry["type"]), [(str(c["name"]), str(c.get("op", "asc"))) for c in columns],
                                     element.line))
        return indexes

    def field_line(self, allowed_types: frozenset[str]) -> FieldDecl:
        described = self.take_comments()
        type_token = self.stream.expect("name", what="a type")
        if type_token.text in TYPE_ALIASES:
            raise XanoScriptSyntaxError(type_token.line, f"Unknown type `{type_token.text}` "
                                                         f"(Xano spells it `{TYPE_ALIASES[type_token.text]}`)")
        if type_token.text not in allowed_types:
            raise XanoScriptSyntaxError(type_token.line, f"Unknown type `{type_token.text}`")
        decl = FieldDecl(name="", type=type_token.text, line=type_token.line)
        if self.stream.accept("op", "["):
            decl.is_list = True
            if not self.stream.accept("op", "]"):
                self.stream.expect("number", what="a size range like `[1:10]`")
                self.stream.expect("op", ":")
                self.stream.expect("number", what="a size range like `[1:10]`")
                self.stream.expect("op", "]")
        decl.nullable = self.stream.accept("op", "?") is not None
        decl.name = self.stream.expect("name", what="a field name").text
        decl.optional = self.stream.accept("op", "?") is not None
        if self.stream.accept("op", "="):
            decl.default, decl.has_default = literal_value(parse_expression(self.stream)), True
        if self.stream.at("name", "filters"):
            self.stream.advance()
            self.stream.expect("op", "=", what="`=` after `filters`")
            decl.filters = parse_filter_chain(self.stream)
        if self.stream.at("op", "{"):
            if self.open_block(decl.name, one_line_allowed=self.grammar.one_line_metadata):
                self.one_line_members(lambda: self._field_metadata(decl, allowed_types))
            else:
                self.members(lambda: self._field_metadata(decl, allowed_types))
        if described and "description" not in decl.attributes:
            decl.attributes["description"] = described
        return decl

    def _field_metadata(self, decl: FieldDecl, allowed_types: frozenset[str]) -> None:
        key = self.stream.expect("name", what="a field attribute")
        if key.text == "schema" and decl.type == "object":
            self.open_block("schema")
            self.members(lambda: decl.children.append(self.field_line(allowed_types)))
        else:
            decl.attributes[key.text] = literal_value(self.assignment())

    # ---- query -----------------------------------------------------------------------------------------------

    def query(self, text: str) -> QueryDocument:
        name = self.stream.current
        if name.kind not in ("name", "string"):
            raise XanoScriptSyntaxError(name.line, f"expected the query name or \"path\", found {describe(name)}")
        self.stream.advance()
        self.stream.expect("name", "verb", what="`verb=`")
        self.stream.expect("op", "=", what="`=` after `verb`")
        verb = self.stream.expect("name", what="a verb")
        if verb.text not in VERBS:
            raise XanoScriptSyntaxError(verb.line, f"verb `{verb.text}` is not accepted; use one of {', '.join(VERBS)}")
        document = QueryDocument(path=str(name.value) if name.kind == "string" else name.text, verb=verb.text,
                                 text=text)
        self.open_block("query")
        seen: set[str] = set()

        def member() -> None:
            key = self._member_key(seen, "query")
            if key.text == "input":
                if self.stream.at("op", "{"):
                    if self.open_block("input", one_line_allowed=self.grammar.one_line_empty_block):
                        self.stream.expect("op", "}", what="`}`: only an empty `input {}` fits on one line")
                    else:
                        self.members(lambda: document.inputs.append(self.field_line(INPUT_TYPES)))
            elif key.text == "stack":
                if self.stream.at("op", "{"):
                    self.open_block("stack")
                    self.members(lambda: self._append_statement(document.stack), in_stack=True)
            elif key.text == "response":
                document.response = self.assignment()
            elif key.text == "test":
                seen.discard("test")  # a query may carry several tests
                self.name_or_string("the test name")
                self._skip_loosely()
            elif key.text in _QUERY_ATTRIBUTES:
                self._query_attribute(document, key.text, self.assignment())
            elif key.text == "api_group" and self.grammar.api_group_in_query:
                document.api_group = str(literal_value(self.assignment()))
            elif key.text == "guid" and self.grammar.guid_member:
                document.guid = str(literal_value(self.assignment()))
            else:
                raise XanoScriptSyntaxError(key.line, f"Attribute `{key.text}` is not allowed in a query")

        closing = self.members(member)
        for required in ("input", "stack", "response"):
            if required not in seen:
                raise XanoScriptSyntaxError(closing, f"query `{document.path}` is missing `{required}`")
        return document

    def _query_attribute(self, document: QueryDocument, key: str, value: Expr) -> None:
        if key == "description":
            document.description = str(literal_value(value))
        elif key == "auth":
            document.auth = str(literal_value(value))
        elif key == "tags":
            tags = literal_value(value)
            document.tags = [str(tag) for tag in tags] if isinstance(tags, list) else []

    # ---- stack statements ------------------------------------------------------------------------------------

    def _append_statement(self, stack: list[Statement]) -> None:
        stack.append(self.statement())

    def statement(self) -> Statement:
        first = self.stream.expect("name", what="a statement")
        keyword = first.text
        while self.stream.accept("op", "."):
            keyword += "." + self.stream.expect("name", what="a name after `.`").text
        statement = Statement(keyword=keyword, line=first.line)
        if keyword.startswith("db."):
            self._db_statement(statement)
        elif keyword == "precondition":
            self.stream.expect("op", "(", what="`(` and a condition after `precondition`")
            statement.condition = parse_expression(self.stream)
            self.stream.expect("op", ")")
            if self.stream.at("op", "{"):
                statement.attributes = self.attribute_block(
                    keyword, frozenset(), frozenset({"error_type", "error", "payload", "description", "disabled"}))
        elif keyword in ("var", "var.update"):
            statement.target = self.stream.expect("var", what="a `$variable`").text[1:]
            statement.attributes = self.attribute_block(keyword, frozenset({"value"}), frozenset({"description"}))
        elif keyword == "conditional":
            self._conditional(statement)
        elif keyword == "throw":
            statement.attributes = self.attribute_block(keyword, frozenset({"name", "value"}), frozenset())
        elif keyword == "return":
            statement.attributes = self.attribute_block(keyword, frozenset({"value"}), frozenset())
        elif keyword in _OTHER_STATEMENTS or ("." in keyword and keyword.split(".")[0] in _OTHER_NAMESPACES):
            statement.emulated = False
            statement.raw = f"{keyword} {self._skip_loosely()}".strip()
        else:
            raise XanoScriptSyntaxError(first.line, f"Unknown statement `{keyword}`")
        if self.stream.accept("name", "as"):
            statement.alias = self.stream.expect("var", what="a `$variable` after `as`").text[1:]
        return statement

    def _db_statement(self, statement: Statement) -> None:
        operation = statement.keyword[3:]
        if operation in _OTHER_DB_OPS or operation.startswith("external."):
            statement.emulated = False
            statement.raw = f"{statement.keyword} {self._skip_loosely()}".strip()
            return
        if operation not in _DB_ATTRIBUTES:
            raise XanoScriptSyntaxError(statement.line, f"Unknown statement `{statement.keyword}`")
        statement.target = self.name_or_string(f"the table of `{statement.keyword}`")
        required, optional = _DB_ATTRIBUTES[operation]
        if self.stream.at("op", "{"):
            statement.attributes = self.attribute_block(operation, required, optional)
        elif required:
            raise XanoScriptSyntaxError(statement.line, f"`{statement.keyword}` needs a block with "
                                                        f"{', '.join(sorted(required))}")
        data = statement.attributes.get("data")
        if operation == "edit" and data is not None and data.kind != "object":
            raise XanoScriptSyntaxError(data.line, "`db.edit` needs an object literal as `data` "
                                                   "(`data = {...}`); use `db.patch` for a variable")

    def attribute_block(self, owner: str, required: frozenset[str], optional: frozenset[str]) -> dict[str, Expr]:
        attributes: dict[str, Expr] = {}
        opened_at = self.stream.current.line
        self.open_block(owner)

        def member() -> None:
            key = self.stream.expect("name", what="an attribute")
            if key.text not in required | optional:
                raise XanoScriptSyntaxError(key.line, f"Attribute `{key.text}` is not allowed in `{owner}`")
            if key.text in attributes:
                raise XanoScriptSyntaxError(key.line, f"Attribute `{key.text}` appears twice in `{owner}`")
            attributes[key.text] = self.assignment()

        self.members(member)
        for name in sorted(required - set(attributes)):
            raise XanoScriptSyntaxError(opened_at, f"{owner} is missing the {name} attribute")
        return attributes

    def _conditional(self, statement: Statement) -> None:
        self.open_block("conditional")

        def member() -> None:
            key = self.stream.expect("name", what="`if`, `elseif` or `else`")
            if key.text == "description":
                self.assignment()
                return
            if key.text not in ("if", "elseif", "else") or (key.text != "if") == (not statement.branches):
                raise XanoScriptSyntaxError(key.line, f"unexpected `{key.text}` in `conditional`")
            condition: Expr | None = None
            if key.text != "else":
                self.stream.expect("op", "(", what=f"`(` after `{key.text}`")
                condition = parse_expression(self.stream)
                self.stream.expect("op", ")")
            body: list[Statement] = []
            self.open_block(key.text)
            self.members(lambda: self._append_statement(body), in_stack=True)
            statement.branches.append((condition, body))

        self.members(member)

    def _skip_loosely(self) -> str:
        """Consume a statement the sandbox does not interpret, up to the end of its line at bracket depth 0. Its
        tokens come back on one line (strings quoted again, comments left out, since a `//` would swallow the
        rest of the line), so two documents can still be compared on it and it can be written back."""
        depth = 0
        parts: list[str] = []
        while True:
            token = self.stream.current
            if token.kind == "end":
                raise XanoScriptSyntaxError(token.line, "a block is not closed (missing `}`)")
            if depth == 0 and (token.kind == "newline" or (token.kind == "name" and token.text == "as")):
                break
            if token.kind == "op" and token.text in "{[(":
                depth += 1
            elif token.kind == "op" and token.text in "}])":
                if depth == 0:
                    break
                depth -= 1
            if token.kind == "string":
                parts.append(quote(str(token.value)))
            elif token.kind not in ("comment", "newline"):
                parts.append(token.text)
            self.stream.advance()
        return _join_tokens(parts)

    # ---- api_group -------------------------------------------------------------------------------------------

    def api_group(self, text: str) -> ApiGroupDocument:
        document = ApiGroupDocument(name=self.name_or_string("the API group name"), text=text)
        self.open_block("api_group")
        seen: set[str] = set()

        def member() -> None:
            key = self._member_key(seen, "api_group")
            if key.text not in _GROUP_ATTRIBUTES:
                raise XanoScriptSyntaxError(key.line, f"Attribute `{key.text}` is not allowed in an api_group")
            value = literal_value(self.assignment())
            if key.text == "canonical":
                document.canonical = str(value)
            elif key.text == "swagger":
                document.swagger = bool(value.get("active", True)) if isinstance(value, dict) else bool(value)
            elif key.text in ("description", "docs"):
                setattr(document, key.text, str(value))
            elif key.text == "tags" and isinstance(value, list):
                document.tags = [str(tag) for tag in value]

        self.members(member)
        return document


_NO_SPACE_BEFORE = frozenset({".", ")", "]", ",", ":", "|"})
_NO_SPACE_AFTER = frozenset({".", "(", "[", ":", "|"})


def _join_tokens(parts: list[str]) -> str:
    """Tokens on one line, spaced as people write them (`$row.id`, `($rows)`, `$x|trim:1`)."""
    out: list[str] = []
    for part in parts:
        if out and part not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(part)
    return "".join(out)
