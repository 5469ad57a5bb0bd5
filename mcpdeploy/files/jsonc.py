"""A small JSON-with-comments reader and editor that changes only the bytes it must.

wrangler.json / wrangler.jsonc may hold `//` and `/* */` comments and trailing commas. Re-serialising the
document would drop the comments, so edits here are text splices: the parser records where every value starts
and ends, and an edit replaces one value or inserts one member/element before a closing bracket, copying the
surrounding indentation and trailing-comma style. Callers re-parse after each edit (documents are small).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcpdeploy.errors import InputFileError

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_WHITESPACE = " \t\r\n\ufeff"
# Deeper documents are refused rather than parsed: each level is a Python call, and no config nests this far
# (tomlkit stops TOML at the same depth).
MAX_DEPTH = 100


@dataclass
class Token:
    kind: Literal["punct", "string", "number", "literal", "comment"]
    start: int
    end: int
    text: str


@dataclass
class Member:
    key: str
    key_start: int
    value: Node


@dataclass
class Node:
    """One value. For objects and arrays, `open`/`close` are the bracket offsets, `content_end` is where the
    last token before the closing bracket ends (a comment counts), `trailing_comma` whether one precedes it."""

    kind: Literal["object", "array", "scalar"]
    start: int
    end: int
    value: Any = None
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    trailing_comma: bool = False
    content_end: int = 0

    def get(self, key: str) -> Node | None:
        """The value of `key` (the last one, as JSON.parse keeps), or None."""
        found = None
        for member in self.members:
            if member.key == key:
                found = member.value
        return found


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class _Parser:
    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.tokens = self._tokenize()
        self.pos = 0  # index into tokens
        self.depth = 0

    def fail(self, offset: int, problem: str) -> InputFileError:
        return InputFileError(self.path, f"invalid JSON: {problem}", line=line_of(self.text, offset),
                              hint="Fix the syntax and run again.")

    def _tokenize(self) -> list[Token]:
        text, i, out = self.text, 0, []
        while i < len(text):
            ch = text[i]
            if ch in _WHITESPACE:
                i += 1
            elif text.startswith("//", i):
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                out.append(Token("comment", i, end, text[i:end]))
                i = end
            elif text.startswith("/*", i):
                end = text.find("*/", i + 2)
                if end < 0:
                    raise self.fail(i, "a /* comment is never closed")
                out.append(Token("comment", i, end + 2, text[i : end + 2]))
                i = end + 2
            elif ch in "{}[],:":
                out.append(Token("punct", i, i + 1, ch))
                i += 1
            elif ch == '"':
                j = i + 1
                while j < len(text) and text[j] != '"':
                    if text[j] == "\n":
                        raise self.fail(i, "a string is not closed on its line")
                    j += 2 if text[j] == "\\" else 1
                if j >= len(text):
                    raise self.fail(i, "a string is never closed")
                out.append(Token("string", i, j + 1, text[i : j + 1]))
                i = j + 1
            else:
                match = _NUMBER.match(text, i)
                word = re.match(r"[A-Za-z]+", text[i:])
                if match and match.end() > i:
                    out.append(Token("number", i, match.end(), match.group()))
                    i = match.end()
                elif word and word.group() in _LITERALS:
                    out.append(Token("literal", i, i + len(word.group()), word.group()))
                    i += len(word.group())
                else:
                    raise self.fail(i, f"unexpected {text[i]!r}")
        return out

    def _peek(self) -> Token | None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind == "comment":
            self.pos += 1
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> Token:
        token = self._peek()
        if token is None:
            raise self.fail(len(self.text), "the document ends too early")
        if expected is not None and token.text != expected:
            raise self.fail(token.start, f"expected {expected!r}, found {token.text[:20]!r}")
        self.pos += 1
        return token

    def document(self) -> Node:
        node = self.value()
        extra = self._peek()
        if extra is not None:
            raise self.fail(extra.start, "unexpected content after the document")
        return node

    def value(self) -> Node:
        token = self._take()
        if token.kind == "punct" and token.text in "{[":
            if self.depth >= MAX_DEPTH:
                raise self.fail(token.start, f"values nested more than {MAX_DEPTH} levels deep")
            self.depth += 1
            try:
                return self._container(token, "object" if token.text == "{" else "array")
            finally:
                self.depth -= 1
        if token.kind == "string":
            return Node("scalar", token.start, token.end, self._string(token))
        if token.kind == "number":
            return Node("scalar", token.start, token.end, self._number(token))
        if token.kind == "literal":
            return Node("scalar", token.start, token.end, _LITERALS[token.text])
        raise self.fail(token.start, f"expected a value, found {token.text!r}")

    def _number(self, token: Token) -> Any:
        try:
            return json.loads(token.text)
        except ValueError as exc:  # Python reads integers of at most 4,300 digits
            raise self.fail(token.start, f"a number of {len(token.text)} characters is too long to read") from exc

    def _string(self, token: Token) -> str:
        try:
            result = json.loads(token.text)
        except json.JSONDecodeError as exc:
            raise self.fail(token.start, f"bad string escape ({exc.msg})") from exc
        assert isinstance(result, str)
        return result

    def _container(self, open_token: Token, kind: Literal["object", "array"]) -> Node:
        closer = "}" if kind == "object" else "]"
        node = Node(kind, open_token.start, open_token.start)
        expecting_item = True
        while True:
            token = self._peek()
            if token is None:
                raise self.fail(open_token.start, f"this {kind} is never closed")
            if token.text == closer and token.kind == "punct":
                close_index = self.pos
                self.pos += 1
                node.end = token.end
                previous = self.tokens[close_index - 1]
                node.content_end = previous.end
                node.trailing_comma = expecting_item and bool(node.members or node.items)
                break
            if not expecting_item:
                self._take(",")
                expecting_item = True
                continue
            if kind == "object":
                key_token = self._take()
                if key_token.kind != "string":
                    raise self.fail(key_token.start, f"expected a quoted key, found {key_token.text[:20]!r}")
                self._take(":")
                node.members.append(Member(self._string(key_token), key_token.start, self.value()))
            else:
                node.items.append(self.value())
            expecting_item = False
        if kind == "object":
            node.value = {m.key: m.value.value for m in node.members}
        else:
            node.value = [item.value for item in node.items]
        return node


def parse(text: str, path: Path) -> Node:
    """Parse JSONC text; InputFileError names the line of the first problem."""
    return _Parser(text, path).document()


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _indent_at(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    match = re.match(r"[ \t]*", text[start:])
    return match.group() if match else ""


def _starts_line(text: str, offset: int) -> bool:
    return text[_line_start(text, offset) : offset].strip() == ""


def indent_unit(text: str) -> str:
    """The document's indentation step: a tab, or the smallest run of leading spaces (default: a tab)."""
    widths = []
    for line in text.splitlines():
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if lead.startswith("\t"):
            return "\t"
        if lead and line.strip():
            widths.append(len(lead))
    return " " * min(widths) if widths else "\t"


def render(value: Any, base_indent: str, unit: str, *, multiline: bool) -> str:
    if not multiline:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + base_indent)


def replace_value(text: str, node: Node, value: Any) -> str:
    """Replace one value, keeping what surrounds it (a comment after it on the same line stays)."""
    unit = indent_unit(text)
    multiline = node.kind != "scalar" and "\n" in text[node.start : node.end]
    rendered = render(value, _indent_at(text, node.start), unit, multiline=multiline)
    return text[: node.start] + rendered + text[node.end :]


def _insert(text: str, container: Node, entry_text_for: Callable[[str, bool], str]) -> str:
    """Insert one member/element at the end of `container`. `entry_text_for(indent, multiline)` renders it."""
    entries: list[tuple[int, int]] = (
        [(m.key_start, m.value.end) for m in container.members]
        if container.kind == "object"
        else [(item.start, item.end) for item in container.items]
    )
    unit = indent_unit(text)
    close = container.end - 1
    one_line = "\n" not in text[container.start : container.end]
    if not entries:
        if one_line:
            outer = _indent_at(text, container.start)
            inner = outer + unit
            body = "\n" + inner + entry_text_for(inner, True) + "\n" + outer
            return text[: container.start + 1] + body + text[close:]
        outer = _indent_at(text, close)
        inner = outer + unit
        return text[: container.content_end] + "\n" + inner + entry_text_for(inner, True) + "\n" + outer + text[close:]
    last_start, last_end = entries[-1]
    if one_line or not _starts_line(text, last_start):
        # Members written on one line: continue on that line.
        return text[:last_end] + ", " + entry_text_for("", False) + text[last_end:]
    indent = _indent_at(text, last_start)
    addition = "\n" + indent + entry_text_for(indent, True) + ("," if container.trailing_comma else "")
    text = text[: container.content_end] + addition + text[container.content_end :]
    if not container.trailing_comma:
        text = text[:last_end] + "," + text[last_end:]
    return text


def add_member(text: str, obj: Node, key: str, value: Any) -> str:
    """Add `"key": value` as the last member of `obj`, in the object's own layout."""
    unit = indent_unit(text)

    def entry(indent: str, multiline: bool) -> str:
        return json.dumps(key, ensure_ascii=False) + ": " + render(value, indent, unit, multiline=multiline)

    return _insert(text, obj, entry)


def append_item(text: str, array: Node, value: Any) -> str:
    """Append `value` as the last element of `array`, in the array's own layout."""
    unit = indent_unit(text)
    return _insert(text, array, lambda indent, multiline: render(value, indent, unit, multiline=multiline))
