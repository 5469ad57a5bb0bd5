"""Evaluate XanoScript value expressions for the sandbox's runtime: variables, literals, operators and filters.

An undefined `$variable` is a fatal error (500 `ERROR_FATAL` "Unable to locate var: ..."), as Xano reports it at
run time; a filter the sandbox does not implement is a 500 that names it, so a test never passes by accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcpdeploy.sandbox.xano_errors import XanoError
from mcpdeploy.sandbox.xano_rows import loosely_equal, now_ms
from mcpdeploy.xanoscript.lexer import Expr


def fatal(message: str) -> XanoError:
    return XanoError(500, "ERROR_FATAL", message)


def evaluate(expr: Expr | None, variables: dict[str, Any]) -> Any:
    if expr is None:
        return None
    kind = expr.kind
    if kind == "literal":
        return expr.value
    if kind == "now":
        return now_ms()
    if kind == "ident":
        return expr.name
    if kind == "var":
        if expr.name not in variables:
            raise fatal(f"Unable to locate var: ${expr.name} (line {expr.line})")
        return _walk(variables[expr.name], [p if isinstance(p, str) else evaluate(p, variables) for p in expr.path])
    if kind == "object":
        return {key: evaluate(value, variables) for key, value in expr.items}
    if kind == "array":
        return [evaluate(element, variables) for element in expr.elements]
    if kind == "pipe":
        return apply_filter(expr.name, evaluate(expr.left, variables), [evaluate(a, variables) for a in expr.args],
                            expr.line)
    if kind == "unary":
        operand = evaluate(expr.left, variables)
        return (not truthy(operand)) if expr.op == "!" else -operand
    if kind == "binary":
        return _binary(expr, variables)
    raise fatal(f"The sandbox cannot evaluate this expression (line {expr.line})")


def _walk(value: Any, path: list[Any]) -> Any:
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", [], {})


def _binary(expr: Expr, variables: dict[str, Any]) -> Any:
    left = evaluate(expr.left, variables)
    if expr.op == "&&":
        return truthy(left) and truthy(evaluate(expr.right, variables))
    if expr.op == "||":
        return truthy(left) or truthy(evaluate(expr.right, variables))
    if expr.op == "??":
        return left if left is not None else evaluate(expr.right, variables)
    right = evaluate(expr.right, variables)
    if expr.op == "==":
        return left == right
    if expr.op == "!=":
        return left != right
    if expr.op == "~":
        return f"{'' if left is None else left}{'' if right is None else right}"
    try:
        return _ARITHMETIC[expr.op](left, right)
    except (TypeError, ZeroDivisionError) as exc:
        raise fatal(f"Cannot apply `{expr.op}` to {left!r} and {right!r} (line {expr.line}): {exc}") from None


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    ">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


_FILTERS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "first_notnull": lambda v, a: v if v is not None else (a[0] if a else None),
    "first_notempty": lambda v, a: v if not _empty(v) else (a[0] if a else None),
    "trim": lambda v, a: v.strip() if isinstance(v, str) else v,
    "ltrim": lambda v, a: v.lstrip() if isinstance(v, str) else v,
    "rtrim": lambda v, a: v.rstrip() if isinstance(v, str) else v,
    "lower": lambda v, a: v.lower() if isinstance(v, str) else v,
    "upper": lambda v, a: v.upper() if isinstance(v, str) else v,
    "to_text": lambda v, a: _text(v),
    "to_int": lambda v, a: int(float(v)) if v not in (None, "") else 0,
    "to_decimal": lambda v, a: float(v) if v not in (None, "") else 0.0,
    "to_bool": lambda v, a: truthy(v) and str(v).lower() not in ("false", "0"),
    "json_encode": lambda v, a: json.dumps(v, separators=(",", ":")),
    "json_decode": lambda v, a: json.loads(v) if isinstance(v, str) else v,
    "count": lambda v, a: len(v) if isinstance(v, (list, dict)) else 0,
    "strlen": lambda v, a: len(v) if isinstance(v, str) else 0,
    "is_null": lambda v, a: v is None,
    "is_empty": lambda v, a: _empty(v),
    "not": lambda v, a: not truthy(v),
    "add": lambda v, a: v + a[0],
    "subtract": lambda v, a: v - a[0],
    "multiply": lambda v, a: v * a[0],
    "divide": lambda v, a: v / a[0],
    "concat": lambda v, a: _text(v) + "".join(_text(x) for x in a),
    "first": lambda v, a: v[0] if isinstance(v, list) and v else None,
    "last": lambda v, a: v[-1] if isinstance(v, list) and v else None,
    "keys": lambda v, a: list(v) if isinstance(v, dict) else [],
    "values": lambda v, a: list(v.values()) if isinstance(v, dict) else [],
    "get": lambda v, a: v.get(a[0], a[1] if len(a) > 1 else None) if isinstance(v, dict) else None,
    "contains": lambda v, a: any(loosely_equal(x, a[0]) for x in v) if isinstance(v, list) else str(a[0]) in _text(v),
}


def apply_filter(name: str, value: Any, args: list[Any], line: int) -> Any:
    implementation = _FILTERS.get(name)
    if implementation is None:
        raise fatal(f"The sandbox does not emulate the `{name}` filter (line {line})")
    try:
        return implementation(value, args)
    except (TypeError, ValueError, IndexError, ZeroDivisionError) as exc:
        raise fatal(f"Filter `{name}` failed on {value!r} (line {line}): {exc}") from None
