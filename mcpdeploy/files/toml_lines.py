"""Where each key and array entry of a TOML document sits, so errors can name the exact line.

`key_lines(text)` maps every location pydantic can report (`("fields", 2, "type")`, `("indexes", 0, "fields", 1)`)
to its 1-based line: keys, `[table]` headers, `[[array]]` entries (numbered per array, as in the parsed data), and
the elements of inline arrays and tables. It runs on text that `tomllib` already accepted, so it only has to follow
TOML's structure, not check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Loc = tuple[str | int, ...]

_TOKEN = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<space>[ \t\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:\\.|[^\\])*?\"\"\"|'''.*?'''|"(?:\\.|[^"\\\n])*"|'[^'\n]*')
  | (?P<punct>\[\[|\]\]|[\[\]{}=,])
  | (?P<bare>[^\s\[\]{}=,\#"']+)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class _Token:
    kind: str
    text: str
    line: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "bare"
        value = match.group()
        if kind not in ("space", "comment"):
            out.append(_Token(kind, value, line))
        line += value.count("\n")
    return out


def _key_parts(token: _Token) -> list[str]:
    if token.kind == "string":
        return [token.text.strip("\"'")]
    return [part.strip("\"'") for part in token.text.split(".")]


class _Walker:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.lines: dict[Loc, int] = {}
        self.array_counts: dict[Loc, int] = {}

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def split_double_bracket(self) -> None:
        """Inside a value, `[[` and `]]` are two brackets (nested arrays), not an array-of-tables header."""
        token = self.peek()
        if token is not None and token.text in ("[[", "]]"):
            half = _Token("punct", token.text[0], token.line)
            self.tokens[self.pos : self.pos + 1] = [half, half]

    def skip_newlines(self) -> None:
        while (token := self.peek()) is not None and token.kind == "nl":
            self.pos += 1

    def record(self, loc: Loc, line: int) -> None:
        self.lines.setdefault(loc, line)

    def read_key(self, closing: set[str]) -> list[str]:
        parts: list[str] = []
        while (token := self.peek()) is not None and token.text not in closing and token.kind != "nl":
            self.take()
            parts.extend(p for p in _key_parts(token) if p)
        return parts

    def resolve(self, parts: list[str]) -> Loc:
        """A header path, with the current entry number of each array of tables it passes through."""
        loc: Loc = ()
        for part in parts:
            loc = (*loc, part)
            if loc in self.array_counts:
                loc = (*loc, self.array_counts[loc])
        return loc

    def walk(self) -> dict[Loc, int]:
        current: Loc = ()
        while (token := self.peek()) is not None:
            if token.kind == "nl":
                self.take()
            elif token.text == "[[":
                self.take()
                parts = self.read_key({"]]"})
                self.take()
                array = (*self.resolve(parts[:-1]), parts[-1])
                self.array_counts[array] = self.array_counts.get(array, -1) + 1
                current = (*array, self.array_counts[array])
                self.record(array, token.line)
                self.record(current, token.line)
            elif token.text == "[":
                self.take()
                parts = self.read_key({"]"})
                self.take()
                current = self.resolve(parts)
                self.record(current, token.line)
            else:
                self.key_value(current)
        return self.lines

    def key_value(self, table: Loc) -> None:
        start = self.peek()
        parts = self.read_key({"="})
        if self.peek() is None or not parts or start is None:
            self.pos = len(self.tokens)
            return
        self.take()  # "="
        loc = (*table, *parts)
        self.record(loc, start.line)
        self.value(loc)

    def value(self, loc: Loc) -> None:
        self.split_double_bracket()
        token = self.take()
        if token.text == "[":
            self.sequence(loc, closing="]", keyed=False)
        elif token.text == "{":
            self.sequence(loc, closing="}", keyed=True)

    def sequence(self, loc: Loc, *, closing: str, keyed: bool) -> None:
        index = 0
        while True:
            self.skip_newlines()
            self.split_double_bracket()
            token = self.peek()
            if token is None:
                return
            if token.text == closing:
                self.take()
                return
            if token.text == ",":
                self.take()
                index += 1
                continue
            if keyed:
                self.key_value(loc)
            else:
                self.record((*loc, index), token.line)
                self.value((*loc, index))


def key_lines(text: str) -> dict[Loc, int]:
    """Every location in `text` with its 1-based line."""
    return _Walker(text).walk()


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of `loc`, or of its nearest enclosing entry when the key itself is absent (a missing key)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
