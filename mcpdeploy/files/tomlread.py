"""Read TOML for its data (tomllib), reporting the file and line of a syntax error."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from mcpdeploy.errors import InputFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["line_of_key", "read_toml", "tomllib", "unreadable_data"]

_LINE = re.compile(r"line (\d+)")


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Return (data, text). Raises InputFileError naming the line for invalid TOML or undecodable bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "is not valid UTF-8", line=line) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = _LINE.search(str(exc))
        error_line = int(match.group(1)) if match else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputFileError(
            path, f"invalid TOML: {problem}", line=error_line, hint="Fix the syntax and run again."
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise unreadable_data(path, text, exc) from exc


_LONG_NUMBER = re.compile(r"\d{1000,}")


def unreadable_data(path: Path, text: str, exc: ValueError | RecursionError) -> InputFileError:
    """What a parser's own limits become: a number too long for Python to read (over 4,300 digits), or values
    nested deeper than its recursion allows. Valid syntax, but no configuration needs either."""
    if isinstance(exc, RecursionError):
        return InputFileError(path, "values are nested too deeply to read",
                              hint="Nest tables and arrays a few levels at most.")
    match = _LONG_NUMBER.search(text)
    if match is None or "digits" not in str(exc):
        return InputFileError(path, f"cannot be read: {exc}", hint="Fix the value and run again.")
    return InputFileError(path, "holds a number with more than 4,300 digits, more than can be read",
                          line=text.count("\n", 0, match.start()) + 1,
                          hint="A number this long is surely a mistake: shorten it.")


def line_of_key(text: str, *keys: str) -> int | None:
    """Best-effort line of a key (or table header) path in TOML text, for pointing errors at the right line.

    Walks the keys in order, each searched after the line of the previous one, so `["fields", "name"]`
    finds the `name` under the right table.
    """
    lines = text.splitlines()
    start = 0
    found: int | None = None
    for key in keys:
        pattern = re.compile(rf'^\s*(\[+\s*)?("?{re.escape(key)}"?)(\s*[=\].])')
        for i in range(start, len(lines)):
            if pattern.search(lines[i]):
                found = i + 1
                start = i + 1
                break
        else:
            return found
    return found
