"""A reader for the part of GraphQL that analytics queries use: one `query` operation with typed variables,
nested selections with aliases, and arguments holding variables, numbers, strings, enums, lists and objects.

The sandbox parses a query rather than matching its text, so a query Cloudflare would refuse as malformed is
refused here too (`GraphQLSyntaxError`), and field names are checked one by one by the evaluator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"""
    (?P<skip>[\s,]+|\#[^\n]*)
  | (?P<punct>\.\.\.|[{}()\[\]:!$=@])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
""", re.VERBOSE)
_MAX_DEPTH = 32  # nesting a real query never reaches; deeper is refused instead of recursing without end


class GraphQLSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The name the answer uses for this field."""
        return self.alias or self.name


@dataclass
class Operation:
    variables: dict[str, Any]  # name -> default value (None without one)
    selections: list[Field]


def parse(text: str) -> Operation:
    tokens = _tokens(text)
    reader = _Reader(tokens)
    operation = reader.operation()
    if not reader.done():
        raise GraphQLSyntaxError(f"unexpected {reader.peek()!r} after the operation (one operation per query)")
    return operation


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise GraphQLSyntaxError(f"unexpected character {text[position]!r} at offset {position}")
        kind = match.lastgroup or ""
        if kind != "skip":
            out.append((kind, match.group()))
        position = match.end()
    return out


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._at = 0

    def done(self) -> bool:
        return self._at >= len(self._tokens)

    def peek(self) -> str:
        return self._tokens[self._at][1] if not self.done() else "end of query"

    def _kind(self) -> str:
        return self._tokens[self._at][0] if not self.done() else ""

    def take(self, expected: str | None = None) -> str:
        if self.done():
            raise GraphQLSyntaxError(f"the query ends early{f': expected {expected!r}' if expected else ''}")
        value = self._tokens[self._at][1]
        if expected is not None and value != expected:
            raise GraphQLSyntaxError(f"expected {expected!r}, found {value!r}")
        self._at += 1
        return value

    def name(self) -> str:
        if self._kind() != "name":
            raise GraphQLSyntaxError(f"expected a name, found {self.peek()!r}")
        return self.take()

    def operation(self) -> Operation:
        variables: dict[str, Any] = {}
        if self.peek() == "query":
            self.take()
            if self._kind() == "name":
                self.take()
            if self.peek() == "(":
                variables = self._variable_definitions()
        elif self.peek() != "{":
            raise GraphQLSyntaxError(f"only queries are answered here, not {self.peek()!r}")
        return Operation(variables, self.selection_set(0))

    def _variable_definitions(self) -> dict[str, Any]:
        self.take("(")
        found: dict[str, Any] = {}
        while self.peek() != ")":
            self.take("$")
            name = self.name()
            self.take(":")
            self._type()
            found[name] = self.value(0, constant=True) if self.peek() == "=" and self.take("=") else None
        self.take(")")
        return found

    def _type(self) -> None:
        if self.peek() == "[":
            self.take("[")
            self._type()
            self.take("]")
        else:
            self.name()
        if self.peek() == "!":
            self.take("!")

    def selection_set(self, depth: int) -> list[Field]:
        if depth > _MAX_DEPTH:
            raise GraphQLSyntaxError("the query nests too deeply")
        self.take("{")
        fields: list[Field] = []
        while self.peek() != "}":
            if self.peek() == "...":
                raise GraphQLSyntaxError("fragments are not supported by this endpoint")
            first = self.name()
            alias, name = (first, self._after_colon()) if self.peek() == ":" else (None, first)
            arguments = self._arguments(depth) if self.peek() == "(" else {}
            selections = self.selection_set(depth + 1) if self.peek() == "{" else []
            fields.append(Field(name, alias, arguments, selections))
        self.take("}")
        if not fields:
            raise GraphQLSyntaxError("object field must have selections")
        return fields

    def _after_colon(self) -> str:
        self.take(":")
        return self.name()

    def _arguments(self, depth: int) -> dict[str, Any]:
        self.take("(")
        found: dict[str, Any] = {}
        while self.peek() != ")":
            name = self.name()
            self.take(":")
            found[name] = self.value(depth + 1, constant=False)
        self.take(")")
        return found

    def value(self, depth: int, *, constant: bool) -> Any:
        if depth > _MAX_DEPTH:
            raise GraphQLSyntaxError("an argument nests too deeply")
        kind, token = (self._kind(), self.peek())
        if token == "$":
            if constant:
                raise GraphQLSyntaxError("a variable's default cannot be another variable")
            self.take()
            return Variable(self.name())
        if token == "[":
            self.take()
            items = []
            while self.peek() != "]":
                items.append(self.value(depth + 1, constant=constant))
            self.take("]")
            return items
        if token == "{":
            self.take()
            members: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.name()
                self.take(":")
                members[key] = self.value(depth + 1, constant=constant)
            self.take("}")
            return members
        self.take()
        if kind == "number":
            return float(token) if any(c in token for c in ".eE") else int(token)
        if kind == "string":
            return _unquote(token)
        if kind == "name":
            constants: dict[str, Any] = {"true": True, "false": False, "null": None}
            return constants[token] if token in constants else EnumValue(token)
        raise GraphQLSyntaxError(f"expected a value, found {token!r}")


def _unquote(token: str) -> str:
    try:
        value = json.loads(token)
    except ValueError as exc:
        raise GraphQLSyntaxError(f"malformed string {token[:40]!r}") from exc
    return str(value)


def resolve(value: Any, variables: dict[str, Any]) -> Any:
    """An argument with its variables replaced by their values (enums become their names)."""
    if isinstance(value, Variable):
        if value.name not in variables:
            raise GraphQLSyntaxError(f"variable ${value.name} is not defined")
        return variables[value.name]
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value
