"""XanoScript tokens and value expressions, for the document reader (`reader.py`).

Written from the rules of Xano's XanoScript grammar, independently of mcpdeploy's own generator, so that the
sandbox checks our documents instead of agreeing with them by construction. Newlines are tokens because Xano's
grammar makes them significant (one-line blocks are rejected); `//` comments are tokens so the reader can refuse
them everywhere but inside `stack`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Filters the sandbox knows. Xano rejects unknown filter names at parse time ("Unknown filter function").
KNOWN_FILTERS = frozenset({
    "trim", "ltrim", "rtrim", "lower", "upper", "capitalize", "min", "max", "minlen", "maxlen", "startsWith",
    "endsWith", "alphaOk", "digitOk", "pattern", "ok", "first_notnull", "first_notempty", "to_text", "to_int",
    "to_decimal", "to_bool", "to_timestamp", "json_encode", "json_decode", "count", "is_null", "is_empty",
    "not", "add", "subtract", "multiply", "divide", "concat", "join", "split", "get", "set", "unset", "has",
    "keys", "values", "first", "last", "length", "strlen", "abs", "round", "floor", "ceil", "format_timestamp",
    "parse_timestamp", "transform_timestamp", "sha256", "md5", "base64_encode", "base64_decode", "url_encode",
    "url_decode", "uuid", "merge", "append", "prepend", "filter_empty", "unique", "sort", "reverse", "contains",
    "replace", "substr", "sprintf", "to_lower", "to_upper", "not_null", "coalesce", "escape", "email", "ip",
})

_SINGLE = set("{}[]():=,|?.<>+-*/%~!")
_DOUBLE = {"==", "!=", ">=", "<=", "&&", "||", "??"}


class XanoScriptSyntaxError(ValueError):
    """A document Xano's parser would reject; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Syntax error on line {line}: {message}")
        self.line = line
        self.detail = message


@dataclass(frozen=True)
class Token:
    kind: str  # name | string | number | var | op | newline | comment | end
    text: str
    line: int
    value: Any = None


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos, line, size = 0, 1, len(source)
    while pos < size:
        char = source[pos]
        if char in " \t\r":
            pos += 1
        elif char == "\n":
            tokens.append(Token("newline", "\n", line))
            line += 1
            pos += 1
        elif source.startswith("//", pos):
            end = source.find("\n", pos)
            end = size if end < 0 else end
            tokens.append(Token("comment", source[pos:end], line))
            pos = end
        elif char == '"':
            value, pos = _read_string(source, pos, line)
            tokens.append(Token("string", value, line, value))
        elif char.isdigit():
            end = pos
            while end < size and (source[end].isdigit() or _decimal_point(source, end)):
                end += 1
            text = source[pos:end]
            tokens.append(Token("number", text, line, float(text) if "." in text else int(text)))
            pos = end
        elif char == "$" or char.isalpha() or char == "_":
            end = pos + 1
            while end < size and (source[end].isalnum() or source[end] == "_"):
                end += 1
            word = source[pos:end]
            if word == "$":
                raise XanoScriptSyntaxError(line, "`$` must be followed by a variable name")
            if char != "$" and _after_query_keyword(tokens):
                # A query's name may be a bare path (`query mcp_sessions/{id} verb=GET`): read it whole.
                end = pos
                while end < size and not source[end].isspace():
                    end += 1
                word = source[pos:end]
            tokens.append(Token("var" if char == "$" else "name", word, line))
            pos = end
        elif source[pos : pos + 2] in _DOUBLE:
            tokens.append(Token("op", source[pos : pos + 2], line))
            pos += 2
        elif char in _SINGLE:
            tokens.append(Token("op", char, line))
            pos += 1
        else:
            raise XanoScriptSyntaxError(line, f"unexpected character {char!r}")
    tokens.append(Token("end", "", line))
    return tokens


def _decimal_point(source: str, pos: int) -> bool:
    return source[pos] == "." and source[pos + 1 : pos + 2].isdigit()


def _after_query_keyword(tokens: list[Token]) -> bool:
    significant = [t for t in tokens if t.kind != "newline"]
    return len(significant) == 1 and significant[0].kind == "name" and significant[0].text == "query"


def quote(text: str) -> str:
    """A XanoScript string literal that `tokenize` reads back as `text`: backslashes, quotes and line breaks
    escaped (a string holds no raw newline)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def _read_string(source: str, pos: int, line: int) -> tuple[str, int]:
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/"}
    out: list[str] = []
    index = pos + 1
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            out.append(escapes.get(source[index + 1], source[index + 1]))
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        elif char == "\n":
            break
        else:
            out.append(char)
            index += 1
    raise XanoScriptSyntaxError(line, "unterminated string")


# ---- expressions -------------------------------------------------------------------------------------------------


@dataclass
class Expr:
    """One node of a value expression. `kind` says which fields matter:

    literal(value) | now | ident(name) | var(name, path) | object(items) | array(elements)
    | pipe(operand, name, args) | binary(op, left, right) | unary(op, operand)
    """

    kind: str
    value: Any = None
    name: str = ""
    path: list[str | Expr] = field(default_factory=list)
    items: list[tuple[str, Expr]] = field(default_factory=list)
    elements: list[Expr] = field(default_factory=list)
    args: list[Expr] = field(default_factory=list)
    op: str = ""
    left: Expr | None = None
    right: Expr | None = None
    line: int = 0


_BINARY_LEVELS: list[set[str]] = [{"||"}, {"&&"}, {"==", "!=", ">", "<", ">=", "<="}, {"??"}, {"+", "-", "~"},
                                  {"*", "/", "%"}]


class TokenStream:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        return self.advance() if self.at(kind, text) else None

    def expect(self, kind: str, text: str | None = None, what: str = "") -> Token:
        if not self.at(kind, text):
            wanted = what or (f"`{text}`" if text else kind)
            raise XanoScriptSyntaxError(self.current.line, f"expected {wanted}, found {describe(self.current)}")
        return self.advance()

    def skip_newlines(self) -> None:
        while self.at("newline"):
            self.advance()


def describe(token: Token) -> str:
    if token.kind == "newline":
        return "end of line"
    if token.kind == "end":
        return "end of document"
    if token.kind == "comment":
        return "a `//` comment"
    return f"`{token.text}`"


def parse_expression(stream: TokenStream, level: int = 0) -> Expr:
    if level == len(_BINARY_LEVELS):
        return _parse_unary(stream)
    left = parse_expression(stream, level + 1)
    while stream.current.kind == "op" and stream.current.text in _BINARY_LEVELS[level]:
        op = stream.advance()
        right = parse_expression(stream, level + 1)
        left = Expr("binary", op=op.text, left=left, right=right, line=op.line)
    return left


def _parse_unary(stream: TokenStream) -> Expr:
    if stream.at("op", "!") or stream.at("op", "-"):
        op = stream.advance()
        operand = _parse_unary(stream)
        if op.text == "-" and operand.kind == "literal" and isinstance(operand.value, (int, float)):
            return Expr("literal", value=-operand.value, line=op.line)
        return Expr("unary", op=op.text, left=operand, line=op.line)
    return _parse_piped(stream)


def _parse_piped(stream: TokenStream) -> Expr:
    operand = _parse_primary(stream)
    while stream.at("op", "|"):
        stream.advance()
        operand = _parse_filter(stream, operand)
    return operand


def _parse_filter(stream: TokenStream, operand: Expr) -> Expr:
    token = stream.expect("name", what="a filter name after `|`")
    if token.text not in KNOWN_FILTERS:
        raise XanoScriptSyntaxError(token.line, f"Unknown filter function `{token.text}`")
    args: list[Expr] = []
    while stream.accept("op", ":"):
        args.append(_parse_primary(stream))
    return Expr("pipe", name=token.text, left=operand, args=args, line=token.line)


def parse_filter_chain(stream: TokenStream) -> list[tuple[str, list[Any]]]:
    """`trim|lower|min:0` after `filters=`: names and literal arguments."""
    chain: list[tuple[str, list[Any]]] = []
    while True:
        holder = _parse_filter(stream, Expr("literal"))
        chain.append((holder.name, [a.value if a.kind == "literal" else a.name for a in holder.args]))
        if not stream.accept("op", "|"):
            return chain


def _parse_primary(stream: TokenStream) -> Expr:
    token = stream.current
    if token.kind in ("string", "number"):
        stream.advance()
        return Expr("literal", value=token.value, line=token.line)
    if token.kind == "name":
        stream.advance()
        constants: dict[str, Any] = {"true": True, "false": False, "null": None}
        if token.text in constants:
            return Expr("literal", value=constants[token.text], line=token.line)
        if token.text == "now":
            return Expr("now", line=token.line)
        return Expr("ident", name=token.text, line=token.line)
    if token.kind == "var":
        stream.advance()
        return _parse_accessors(stream, Expr("var", name=token.text[1:], line=token.line))
    if stream.accept("op", "("):
        inner = parse_expression(stream)
        stream.expect("op", ")")
        return inner
    if stream.at("op", "{"):
        return _parse_object(stream)
    if stream.at("op", "["):
        return _parse_array(stream)
    raise XanoScriptSyntaxError(token.line, f"expected a value, found {describe(token)}")


def _parse_accessors(stream: TokenStream, base: Expr) -> Expr:
    while True:
        if stream.at("op", "."):
            stream.advance()
            part = stream.current
            if part.kind not in ("name", "var"):
                raise XanoScriptSyntaxError(part.line, f"expected a field name after `.`, found {describe(part)}")
            stream.advance()
            base.path.append(part.text)
        elif stream.at("op", "["):
            stream.advance()
            base.path.append(parse_expression(stream))
            stream.expect("op", "]")
        else:
            return base


def _parse_object(stream: TokenStream) -> Expr:
    start = stream.expect("op", "{")
    items: list[tuple[str, Expr]] = []
    while True:
        _skip_separators(stream)
        if stream.accept("op", "}"):
            return Expr("object", items=items, line=start.line)
        key = stream.current
        if key.kind not in ("name", "string"):
            raise XanoScriptSyntaxError(key.line, f"expected a key in the object, found {describe(key)}")
        stream.advance()
        stream.expect("op", ":", what="`:` after the object key")
        items.append((key.text if key.kind == "name" else str(key.value), parse_expression(stream)))
        if not (stream.at("newline") or stream.at("op", ",") or stream.at("op", "}")):
            raise XanoScriptSyntaxError(stream.current.line, f"unexpected {describe(stream.current)} in object")


def _parse_array(stream: TokenStream) -> Expr:
    start = stream.expect("op", "[")
    elements: list[Expr] = []
    while True:
        _skip_separators(stream)
        if stream.accept("op", "]"):
            return Expr("array", elements=elements, line=start.line)
        elements.append(parse_expression(stream))
        if not (stream.at("newline") or stream.at("op", ",") or stream.at("op", "]")):
            raise XanoScriptSyntaxError(stream.current.line, f"unexpected {describe(stream.current)} in list")


def _skip_separators(stream: TokenStream) -> None:
    while stream.at("newline") or stream.at("op", ","):
        stream.advance()
    if stream.at("comment"):
        raise XanoScriptSyntaxError(stream.current.line, "`//` comments are only accepted as statements inside `stack`")


def literal_value(expr: Expr) -> Any:
    """The value of an expression made of literals only (index lists, table attributes); identifiers read as text."""
    if expr.kind == "literal":
        return expr.value
    if expr.kind == "ident":
        return expr.name
    if expr.kind == "now":
        return "now"
    if expr.kind == "object":
        return {key: literal_value(value) for key, value in expr.items}
    if expr.kind == "array":
        return [literal_value(element) for element in expr.elements]
    raise XanoScriptSyntaxError(expr.line, "expected a constant value here")
